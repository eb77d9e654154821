package directory

// TamperChannelBindings makes every Kerberos bind send f(bindings) instead of
// the connection's TLS channel bindings, until restore is called: the Samba
// suite shows a DC refuses wrong bindings. Not for parallel tests.
func TamperChannelBindings(f func([]byte) []byte) (restore func()) {
	tamperChannelBindings = f
	return func() { tamperChannelBindings = nil }
}

// ObserveSearches calls f with the base, filter and attributes of every
// search the adapter sends, until restore is called. Not for parallel tests.
func ObserveSearches(f func(base, filter string, attrs []string)) (restore func()) {
	observeSearch = f
	return func() { observeSearch = nil }
}
