package sqlparse

import "testing"

var benchStatements = map[string]string{
	"update": "UPDATE `users` SET `name`=?,`updated_at`=? WHERE `users`.`deleted_at` IS NULL AND `id` = ?",
	"insert": "INSERT INTO `users` (`name`,`email`,`age`) VALUES (?,?,?),(?,?,?),(?,?,?)",
	"delete": "DELETE FROM logs WHERE created_at < ? ORDER BY id LIMIT 1000",
	"multi":  "UPDATE orders o JOIN customers c ON o.customer_id = c.id SET o.discount = c.tier_discount WHERE c.id = ?",
	"begin":  "BEGIN",
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"update", "insert", "delete", "multi", "begin"} {
		sql := benchStatements[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(sql); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseParallel(b *testing.B) {
	sql := benchStatements["update"]
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Parse(sql); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
