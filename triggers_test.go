package mysqletcd

import "testing"

// A trigger on an unmapped table writes a mapped one: the statement never
// names it, and its keys come from a resync after commit.
func TestAWriteWhoseTriggerWritesAMappedTableIsCaptured(t *testing.T) {
	e := newEnv(t, `CREATE TABLE stock (item VARCHAR(16) PRIMARY KEY, qty INT NOT NULL);
		CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, item VARCHAR(16) NOT NULL, qty INT NOT NULL)`,
		Mapping{Table: "stock", Key: "{p}/stock/{item}", Value: ColumnValue("qty")})
	e.exec(`CREATE TRIGGER take AFTER INSERT ON orders FOR EACH ROW UPDATE stock SET qty = qty - NEW.qty WHERE item = NEW.item`)
	e.exec("INSERT INTO stock VALUES ('apple', 10), ('pear', 5)")
	db, c := e.open(nil)
	if err := c.Resync(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO orders (item, qty) VALUES ('apple', 3)")
	e.converged()
	tx, _ := db.Begin()
	mustExecTx(t, tx, "INSERT INTO orders (item, qty) VALUES ('pear', 1), ('apple', 1)")
	tx.Commit()
	e.converged()

	// A trigger created through the driver is known from then on.
	mustExec(t, db, `CREATE TRIGGER giveback AFTER DELETE ON orders FOR EACH ROW UPDATE stock SET qty = qty + OLD.qty WHERE item = OLD.item`)
	mustExec(t, db, "DELETE FROM orders WHERE item = 'pear'")
	e.converged()
}

// A BEFORE trigger that sets a key column decides the key: the statement's
// value is not the row's.
func TestABeforeTriggerThatSetsTheKeyIsReadBack(t *testing.T) {
	e := newEnv(t, `CREATE TABLE tags (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(16) NOT NULL, slug VARCHAR(16) NOT NULL, UNIQUE KEY (slug))`,
		Mapping{Table: "tags", Key: "{p}/tags/{slug}", Value: ColumnValue("name")})
	e.exec("CREATE TRIGGER slugify BEFORE INSERT ON tags FOR EACH ROW SET NEW.slug = LOWER(NEW.name)")
	e.exec("CREATE TRIGGER reslug BEFORE UPDATE ON tags FOR EACH ROW SET NEW.slug = LOWER(NEW.name)")
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO tags (name, slug) VALUES ('Go', 'whatever')")
	mustExec(t, db, "INSERT INTO tags (id, name, slug) VALUES (7, 'Rust', 'x')")
	e.converged()
	mustExec(t, db, "UPDATE tags SET name = 'Zig' WHERE id = 7")
	e.converged()
}
