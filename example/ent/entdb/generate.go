// Package entdb is the example's ent client, generated from ./schema with
// the upsert (OnConflict) and execquery (ExecContext) features.
package entdb

//go:generate go run -mod=mod entgo.io/ent/cmd/ent generate --feature sql/upsert,sql/execquery ./schema
