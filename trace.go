package mysqletcd

// PushTrace is told about each step of each push, much as
// net/http/httptrace.ClientTrace is told about a request. Any hook may be
// nil. Hooks run synchronously on the push path, so a slow hook slows the
// push that calls it (tests use that to force interleavings); keys are the
// etcd keys of the batch and must not be modified.
type PushTrace struct {
	// FencesRead is called after a push has read its keys' fences, and
	// before it reads their rows from the database.
	FencesRead func(keys []string)
	// RowsRead is called after the push has read the rows, and before its
	// compare-and-swap.
	RowsRead func(keys []string)
	// Swapped is called after the compare-and-swap: ok is false when a fence
	// (or the mapping's epoch) moved and the push will start again.
	Swapped func(keys []string, ok bool)
}

func (t *PushTrace) fencesRead(keys []string) {
	if t != nil && t.FencesRead != nil {
		t.FencesRead(keys)
	}
}

func (t *PushTrace) rowsRead(keys []string) {
	if t != nil && t.RowsRead != nil {
		t.RowsRead(keys)
	}
}

func (t *PushTrace) swapped(keys []string, ok bool) {
	if t != nil && t.Swapped != nil {
		t.Swapped(keys, ok)
	}
}
