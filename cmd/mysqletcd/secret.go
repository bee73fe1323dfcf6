package main

import (
	"strings"

	"github.com/go-sql-driver/mysql"
)

// masked is what the output shows in place of a password.
const masked = "***"

// dsnPassword is the password of a DSN written user:password@..., found the
// way go-sql-driver/mysql finds it (the last '@' before the last '/') so
// that it can be hidden even when the DSN does not parse.
func dsnPassword(dsn string) string {
	end := strings.LastIndexByte(dsn, '/')
	if end < 0 {
		end = len(dsn)
	}
	at := strings.LastIndexByte(dsn[:end], '@')
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(dsn[:at], ":")
	return pw
}

// redactSecrets replaces each secret in msg with "***". A secret shorter
// than four bytes is replaced only where it stands as a DSN's password
// (":pw@"), so that a one-letter password does not mangle every message.
func redactSecrets(msg string, secrets []string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, ":"+s+"@", ":"+masked+"@")
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, masked)
		}
	}
	return msg
}

// maskedDSN is the DSN of mc for display: the password, if any, is "***".
func maskedDSN(mc *mysql.Config) string {
	shown := mc.Clone()
	if shown.Passwd != "" {
		shown.Passwd = masked
	}
	return shown.FormatDSN()
}
