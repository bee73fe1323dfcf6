package mysqletcd

import (
	"bytes"
	"context"
	"database/sql/driver"
	"reflect"
	"strings"
)

// Under READ COMMITTED (and READ UNCOMMITTED) InnoDB takes no gap locks: a
// row another transaction inserts into the WHERE's range after the
// before-image's SELECT ... FOR UPDATE, and commits before the write, is
// written without having been read (a phantom). REPEATABLE READ and
// SERIALIZABLE keep phantoms out with next-key locks.
//
// A phantom the write leaves matching its WHERE is found by reading the
// WHERE's rows again after the write. That is all an UPDATE without LIMIT
// needs when it writes no column its WHERE reads. Otherwise a phantom may
// be out of reach: deleted, moved out of the WHERE by the SET, or taken
// by a LIMIT in place of an imaged row. Such phantoms are counted instead.
// The write's affected-rows count n counts the rows it changed (the
// mysql driver's default), or with clientFoundRows=true in the DSN the
// rows it matched, phantoms and imaged rows alike. So it wrote no phantom
// (none that it changed, that is) when n is at most the number of imaged
// rows that n certainly counts:
//
//   - a DELETE without LIMIT deletes, and an UPDATE without LIMIT under
//     clientFoundRows matches, every imaged row (they are locked, and
//     still match): all of them count, with no read;
//   - otherwise the imaged rows are looked up again by row id: one whose
//     digest of the SET columns changed, or that is gone from its row id
//     (deleted, or moved by an UPDATE of the row id), was changed by the
//     write, since nothing else can change a row the before-image locked.
//     A row the write matched but left as it was is not among them: n
//     does not hold it either, unless clientFoundRows makes it count
//     matched rows; then it cannot be told from a phantom that took its
//     place, and costs a resync.
//
// When n leaves room for phantoms, the table resyncs if they may be out of
// reach of a read; a LIMIT write that leaves its rows matching reads every
// row of its WHERE again instead.

// weakIsolation reports whether the open transaction (or the next
// autocommit statement) runs under READ COMMITTED or READ UNCOMMITTED.
func (s *session) weakIsolation() bool {
	if s.nextIsolationWeak {
		return true
	}
	if s.tx != nil && s.tx.isolation != "" {
		return weakLevel(s.tx.isolation)
	}
	return weakLevel(s.isolation)
}

// phantomsPossible reports whether writes may reach rows their
// before-images did not read: under weak isolation, or with a WHERE that
// depends on the time.
func (s *session) phantomsPossible(writes []*tableWrite) bool {
	if s.weakIsolation() {
		return true
	}
	for _, w := range writes {
		if w.timeDependent {
			return true
		}
	}
	return false
}

func weakLevel(level string) bool {
	l := strings.ToUpper(strings.ReplaceAll(level, "-", " "))
	return strings.Contains(l, "READ COMMITTED") || strings.Contains(l, "READ UNCOMMITTED")
}

// isolationOf is the level a BeginTx asked for, as MySQL names it; empty
// for the session's default.
func isolationOf(opts driver.TxOptions) string {
	switch opts.Isolation {
	case 1:
		return "READ UNCOMMITTED"
	case 2:
		return "READ COMMITTED"
	case 4:
		return "REPEATABLE READ"
	case 6:
		return "SERIALIZABLE"
	}
	return ""
}

// phantoms adds the rows a weakly isolated write reached without its
// before-images having read them, or resyncs the tables when it cannot.
// before holds each write's before-image rows.
func (s *session) phantoms(ctx context.Context, sp stmtPlan, args []driver.NamedValue, res driver.Result, before [][][]any, c *capture) error {
	if !s.phantomsPossible(sp.writes) || !needsImages(sp.writes) {
		return nil
	}
	n, err := res.RowsAffected()
	if err != nil {
		for _, w := range sp.writes {
			if w.how == captureBefore {
				c.resync(w.t, reasonUnsupported)
			}
		}
		return nil
	}
	if n == 0 {
		return nil // it changed no row, phantom or not
	}
	var counted []int // the writes whose phantoms are counted
	for i, w := range sp.writes {
		switch {
		case w.how != captureBefore:
		case !w.limited && !w.leavesWhere:
			if err := s.rerun(ctx, w, args, c); err != nil {
				return err
			}
		default:
			counted = append(counted, i)
		}
	}
	if len(counted) == 0 {
		return nil
	}
	if none, err := s.noChangedPhantom(ctx, sp, counted, n, before); none || err != nil {
		return err
	}
	for _, i := range counted {
		w := sp.writes[i]
		if w.leavesWhere {
			c.resync(w.t, reasonUnsupported)
		} else if err := s.rerun(ctx, w, args, c); err != nil {
			return err
		}
	}
	return nil
}

// rerun reads again, after the write, every row the write's WHERE matches.
func (s *session) rerun(ctx context.Context, w *tableWrite, args []driver.NamedValue, c *capture) error {
	imgs, err := queryRows(ctx, s.conn, w.rerun, pickArgs(args, w.rerunParams))
	if err != nil {
		return err
	}
	c.addImages(w.t, imgs)
	return nil
}

// noChangedPhantom reports whether all n rows the statement changed are
// rows that its writes (counted) imaged: whether n is at most the imaged
// rows that n certainly counts.
func (s *session) noChangedPhantom(ctx context.Context, sp stmtPlan, counted []int, n int64, before [][][]any) (bool, error) {
	var imaged int64
	for _, i := range counted {
		imaged += int64(len(before[i]))
	}
	if n > imaged {
		return false, nil // more rows than were imaged: phantoms for sure
	}
	var inCount int64
	for _, i := range counted {
		w := sp.writes[i]
		if !w.limited && (w.deletes || s.foundRows) {
			inCount += int64(len(before[i])) // it matched every imaged row
			continue
		}
		k, err := s.changedRows(ctx, w, before[i])
		if err != nil {
			return false, err
		}
		inCount += k
	}
	return n <= inCount, nil
}

// maxLookupArgs bounds the args of one lookup read, below the 65,535
// placeholders a prepared statement may have.
const maxLookupArgs = 60000

// changedRows counts the imaged rows the write certainly changed: looked
// up again by row id, those whose digests changed, and those gone when
// the lookup is exact.
func (s *session) changedRows(ctx context.Context, w *tableWrite, before [][]any) (int64, error) {
	var changed int64
	step := maxLookupArgs / len(w.t.rowID)
	for start := 0; start < len(before); start += step {
		chunk := before[start:min(start+step, len(before))]
		query, qargs := w.lookupQuery(chunk)
		rows, err := queryRows(ctx, s.conn, query, qargs)
		if err != nil {
			return 0, err
		}
		now := make(map[string][]any, len(rows))
		for _, r := range rows {
			now[w.t.rowIDKey(r)] = r[len(w.t.rowID):]
		}
		for _, img := range chunk {
			if w.changed(img, now) {
				changed++
			}
		}
	}
	return changed, nil
}

// changed reports whether the write certainly changed an imaged row,
// given the digests of the rows found now by row id: nothing but the
// write can have changed a row the before-image locked.
func (w *tableWrite) changed(img []any, now map[string][]any) bool {
	t := w.t
	digests, found := now[t.rowKey(img)]
	if !found {
		return t.exactLookup(img)
	}
	at := len(img) - len(w.digestCols)
	for j, d := range digests {
		if was := img[at+j]; (was == nil) != (d == nil) || !bytes.Equal(rawBytes(was), rawBytes(d)) {
			return true
		}
	}
	return false
}

// lookupQuery selects the row id and the digests of imaged rows, by row
// id.
func (w *tableWrite) lookupQuery(imgs [][]any) (string, []driver.NamedValue) {
	t := w.t
	var qargs []driver.NamedValue
	for _, img := range imgs {
		for _, c := range t.rowID {
			qargs = append(qargs, driver.NamedValue{Ordinal: len(qargs) + 1, Value: img[indexFold(t.idCols, c)]})
		}
	}
	list := t.selectCols("", t.rowID)
	if len(w.digestCols) > 0 {
		list += ", " + digests("", w.digestCols)
	}
	lhs := quoteIdents(t.rowID)
	if len(t.rowID) > 1 {
		lhs = "(" + lhs + ")"
	}
	tuples := strings.TrimSuffix(strings.Repeat(placeholders(len(t.rowID))+",", len(imgs)), ",")
	return "SELECT " + list + " FROM " + quoteTable(t.schema, t.name) + " WHERE " + lhs + " IN (" + tuples + ")", qargs
}

// rowIDKey is rowKey for a row that starts with the row id columns.
func (t *table) rowIDKey(row []any) string {
	var b strings.Builder
	for i, c := range t.rowID {
		col, _ := t.column(c)
		b.WriteString(keyText(col, row[i]))
		b.WriteByte(0)
	}
	return b.String()
}

// exactLookup reports whether looking an image row up by its row id
// values, as the image read them, finds it whenever it is there: then a
// row not found is gone. Integers, dates and binary strings are; text is
// when it is ASCII, which reads the same in every character set the
// connection and the column may use (UTF-16 and UTF-32 columns aside).
func (t *table) exactLookup(img []any) bool {
	for _, c := range t.rowID {
		col, _ := t.column(c)
		v := img[indexFold(t.idCols, c)]
		switch {
		case isInteger(col), col.binary:
		case col.dataType == "date", col.dataType == "datetime", col.dataType == "time":
		case col.textual() && asciiCompatible(col.collation) && isASCII(rawBytes(v)):
		default:
			return false
		}
	}
	return true
}

// asciiCompatible reports a character set that stores ASCII as ASCII.
func asciiCompatible(collation string) bool {
	for _, cs := range []string{"ucs2", "utf16", "utf32"} {
		if strings.HasPrefix(collation, cs) {
			return false
		}
	}
	return true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// countsMatchedRows reports whether the mysql connection was opened with
// clientFoundRows=true, which makes RowsAffected count the rows an UPDATE
// matched rather than those it changed. It reads the connection's own
// config by reflection; when that is not there, it answers no, which
// costs a read after some writes, never a missed phantom.
func countsMatchedRows(conn driver.Conn) bool {
	v := reflect.ValueOf(conn)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	cfg := v.Elem().FieldByName("cfg")
	if cfg.Kind() != reflect.Pointer || cfg.IsNil() || cfg.Elem().Kind() != reflect.Struct {
		return false
	}
	found := cfg.Elem().FieldByName("ClientFoundRows")
	return found.Kind() == reflect.Bool && found.Bool()
}
