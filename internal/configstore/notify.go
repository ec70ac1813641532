package configstore

// NotifyWatch has Watch call watching once it listens and reloaded after
// every reload it makes, with Reload's result, so that a caller can wait
// for the watcher instead of for time to pass. Call it before Watch; either
// may be nil.
func (s *Store) NotifyWatch(watching func(), reloaded func(error)) {
	s.onWatching, s.onReloaded = watching, reloaded
}
