// Package sharedstore keeps what several instances of the server share in
// one PostgreSQL database: for now the config document (its text, comments
// and all, and every revision of it). It opens the connection pool, runs
// the versioned schema migrations under an advisory lock, and implements
// configstore.SharedDocument: compare-and-set writes on the document's
// version and LISTEN/NOTIFY to tell every instance of a new one. It also
// keeps the auth files (authfiles.go: authfiles.SharedBackend, with a row
// lock per file for token refreshes).
package sharedstore
