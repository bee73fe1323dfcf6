# mysqletcd: `make demo` replays the stale-etcd story with real servers;
# `make test` runs every test against a private mariadbd and an in-process etcd.
GO ?= go

.PHONY: demo test vet fuzz bench bench-suite mariadb

demo: mariadb
	$(GO) run ./cmd/mysqletcd demo

test: mariadb vet example-test
	$(GO) test -race -count=1 -timeout 9m ./...
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./internal/sqlparse
	$(GO) test -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime 10s .

.PHONY: example-test

# example-test runs the examples in example/, a module of its own so that
# the ORMs they use stay out of the driver's dependencies.
example-test: mariadb
	cd example && $(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || (gofmt -l . && echo "gofmt: the files above need formatting" && exit 1)

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10m ./internal/sqlparse
	$(GO) test -run '^$$' -fuzz '^FuzzPlan$$' -fuzztime 10m .

bench: mariadb
	$(GO) test -run '^$$' -bench . -count 6 -timeout 30m . | tee bench.txt

# bench-suite runs the programs of the nested module bench/ (docs/benchmarks.md):
# each starts its own mariadbd and etcd and measures mysqletcd beside the plain
# driver and the alternatives in one run; it fails only when etcd does not
# converge to the database. About ten minutes on two cores.
bench-suite: mariadb
	cd bench && $(GO) run ./overhead
	cd bench && $(GO) run ./propagation
	cd bench && $(GO) run ./hotkeys
	cd bench && $(GO) run ./alternatives
	cd bench && $(GO) run ./memory -soak 90s

# mariadb makes sure mariadbd is installed: the tests and the demo start
# their own private server from it (they never use a running one).
mariadb:
	@if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -q && apt-get install -y -q mariadb-server; \
		else \
			echo "mariadbd not found: install mariadb-server (sudo apt-get install -y mariadb-server)"; exit 1; \
		fi; \
	fi
