package main

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

const itemsSchema = `CREATE TABLE items (
	id BIGINT NOT NULL PRIMARY KEY,
	name VARCHAR(64) NOT NULL,
	price DECIMAL(10,2) NOT NULL,
	updated_at DATETIME NOT NULL)`

// fillBatch is the number of rows per INSERT.
const fillBatch = 2000

// item is row id of the table, as the program generates it.
type item struct {
	id        int64
	name      string
	price     string // DECIMAL(10,2) as MySQL prints it
	updatedAt time.Time
}

var colours = []string{"amber", "blue", "crimson", "green", "indigo", "ochre", "silver", "teal", "violet"}

var itemsEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func makeItem(id int64) item {
	cents := id * 7919 % 1_000_000
	return item{
		id:        id,
		name:      fmt.Sprintf("item-%07d-%s", id, colours[id%int64(len(colours))]),
		price:     fmt.Sprintf("%d.%02d", cents/100, cents%100),
		updatedAt: itemsEpoch.Add(time.Duration(id*37) * time.Second),
	}
}

// value is the JSON the mapping renders for the row (see the driver's
// values.go): integers as numbers, DECIMAL as a string, DATETIME in
// RFC 3339 UTC.
func (it item) value() []byte {
	b := make([]byte, 0, 96)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, it.id, 10)
	b = append(b, `,"name":`...)
	b = strconv.AppendQuote(b, it.name)
	b = append(b, `,"price":`...)
	b = strconv.AppendQuote(b, it.price)
	b = append(b, `,"updated_at":`...)
	b = strconv.AppendQuote(b, it.updatedAt.Format(time.RFC3339Nano))
	return append(b, '}')
}

// createItems creates the table afresh and fills it with rows 1..n through
// multi-row INSERTs on two connections.
func createItems(ctx context.Context, db *sql.DB, n int64) error {
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS items"); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, itemsSchema); err != nil {
		return err
	}
	const fillers = 2
	errs := make([]error, fillers)
	var wg sync.WaitGroup
	for w := range fillers {
		wg.Go(func() {
			for start := int64(1 + w*fillBatch); start <= n && errs[w] == nil; start += fillers * fillBatch {
				_, errs[w] = db.ExecContext(ctx, insertItems(start, min(start+fillBatch-1, n)))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("fill items: %w", err)
		}
	}
	return nil
}

// insertItems is one INSERT of rows from..to with literal values.
func insertItems(from, to int64) string {
	var b strings.Builder
	b.WriteString("INSERT INTO items (id, name, price, updated_at) VALUES ")
	for id := from; id <= to; id++ {
		if id > from {
			b.WriteByte(',')
		}
		it := makeItem(id)
		fmt.Fprintf(&b, "(%d,'%s',%s,'%s')", it.id, it.name, it.price, it.updatedAt.Format(time.DateTime))
	}
	return b.String()
}
