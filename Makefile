# mysqletcd: `make demo` replays the stale-etcd story with real servers;
# `make test` runs every test against a private mariadbd and an in-process etcd.
GO ?= go

.PHONY: demo test vet fuzz bench

demo:
	$(GO) run ./cmd/mysqletcd demo

test: vet
	$(GO) test -race -count=1 -timeout 9m ./...
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./internal/sqlparse
	$(GO) test -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime 10s .

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . && echo "gofmt: the files above need formatting" && exit 1)

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10m ./internal/sqlparse
	$(GO) test -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime 10m .

bench:
	$(GO) test -run '^$$' -bench . -count 6 -timeout 30m . | tee bench.txt
