package usage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
)

// sqliteCantOpen is SQLITE_CANTOPEN, which the driver words as "out of
// memory (14)" whatever the cause.
const sqliteCantOpen = 14

// openError explains a failure to open the database at path: when SQLite
// could not open the file, the operating system's own reason (permission
// denied, no such directory, read-only file system) is found and given
// with the path instead of SQLite's misleading words.
func openError(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqliteCantOpen {
		return fmt.Errorf("usage database %s: %w", path, err)
	}
	if why := whyUnopenable(path); why != nil {
		return fmt.Errorf("usage database %s cannot be opened: %w", path, why)
	}
	return fmt.Errorf("usage database %s cannot be opened (SQLite: cannot open file); check that the file and its directory are readable and writable", path)
}

// whyUnopenable tries what SQLite needs: the file readable and writable,
// and its directory writable (the journal files live beside it).
func whyUnopenable(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	probe, err := os.CreateTemp(filepath.Dir(path), ".usage-probe-*")
	if err != nil {
		return err
	}
	probe.Close()
	return os.Remove(probe.Name())
}
