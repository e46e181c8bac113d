# wschaos: the two everyday commands are `make test` and `make check`.
GO      ?= go
GINKGO  ?= $(GO) tool ginkgo
# Specs and packages run with the race detector; the scenario suite in a
# random order, so hidden coupling between specs shows up, and over PROCS
# processes: most of a spec's wall time is waiting on loopback, so four
# share two cores well.
PROCS ?= 4
GINKGO_FLAGS ?= -race --randomize-all -p --procs=$(PROCS) --timeout=10m $(if $(CI),--no-color)

.PHONY: test unit scenarios check vet fmt bench herd-plot rewrite fuzz soak conform-example conform-reference real-clients browser-example

## test: everything: unit tests of every package, then the scenario suite.
test: unit scenarios

unit:
	$(GO) test -race -timeout 30m $$($(GO) list ./... | grep -v '^github.com/wschaos/wschaos$$')

scenarios:
	$(GINKGO) $(GINKGO_FLAGS) .

## check: formatting and vet, as CI runs them.
check: vet fmt

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: every benchmark once at a small size; BENCHMARKS.md gives the
## longer command behind each published figure.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./scenarios/ ./proxy/
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./bench/

## herd-plot: redraw docs/herd.svg from a real run (a few minutes).
herd-plot:
	$(GO) test ./bench -run TestHerdPlot -v -timeout 30m -args -write-plot

## rewrite: regenerate the expected outputs of scenario files from the
## reference client; review the diff before committing it.
rewrite:
	$(GO) test -count=1 ./scenarios/library -args -rewrite

## fuzz: every fuzz target for FUZZTIME each: a number of runs (500000x)
## or a time (make fuzz FUZZTIME=5m). A count is the default: Go 1.26's
## fuzzer can fail a run bounded by time with a spurious "context deadline
## exceeded" as the time runs out (go.dev/issue/75804), never by count.
FUZZTIME ?= 500000x
FUZZ_TARGETS = \
	FuzzTypedJSONDecode:./profile FuzzMattermostDecode:./profile FuzzParseConnectQuery:./profile FuzzParseProfile:./profile \
	FuzzParseScript:./conform FuzzBuild:./chaos/spec FuzzReadSpecs:./proxy \
	FuzzControlAPI:./proxy FuzzFrameReader:./proxy FuzzAdapterOutput:./conform FuzzServeAdapter:./conform
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

## soak: the scenario suite REPEAT+1 times in random order with -race; a
## single failure fails it (make soak REPEAT=100).
REPEAT ?= 10
soak:
	$(GINKGO) -race --randomize-all --repeat=$(REPEAT) $(if $(CI),--no-color) .

## conform-example: the adapter kit's own tests pass, and the JavaScript
## example client (examples/js) must pass
## wschaos conform, and its deliberate-bug variant must fail it, naming the
## behaviour. Then the scenario library through it: every file that applies
## passes, each deliberate bug fails exactly the files about it
## (examples/js/run-library.sh). Needs Node.js 20; installs the example
## with npm ci.
EXAMPLE_REPORTS ?= $(CURDIR)/conform-reports
conform-example:
	node --test examples/adapter-kit/test/
	cd examples/js && npm ci --no-audit --no-fund && npm test
	$(GO) build -o $(EXAMPLE_REPORTS)/wschaos ./cmd/wschaos
	$(EXAMPLE_REPORTS)/wschaos conform --profile queue --adapter "node examples/js/adapter.js" \
		--report-dir $(EXAMPLE_REPORTS)/js
	@echo "== the same client with a deliberate bug must fail:"
	@out=$$(WSCHAOS_JS_BUG=no-reset $(EXAMPLE_REPORTS)/wschaos conform --profile queue \
		--adapter "node examples/js/adapter.js" --only reset-on-open,queue-order \
		--report-dir $(EXAMPLE_REPORTS)/js-no-reset); code=$$?; echo "$$out"; \
	if [ $$code -ne 1 ]; then echo "want exit code 1, got $$code"; exit 1; fi; \
	echo "$$out" | grep -q "reset-on-open  FAIL" || { echo "the bug was not named"; exit 1; }
	@echo "== the scenario library through the example, and through each deliberate bug:"
	examples/js/run-library.sh $(EXAMPLE_REPORTS)/wschaos $(EXAMPLE_REPORTS)

## browser-example: the TypeScript client of examples/browser, run in a
## page of Debian's Chromium and driven over the DevTools protocol, must
## pass wschaos conform, and its deliberate bugs must fail the scenarios
## about them (examples/browser/run.sh). Needs Node.js 20 and chromium; its
## own binary and reports, so it can run beside the other targets.
browser-example:
	$(GO) build -o $(EXAMPLE_REPORTS)/browser/wschaos ./cmd/wschaos
	examples/browser/run.sh $(EXAMPLE_REPORTS)/browser/wschaos $(EXAMPLE_REPORTS)/browser

## conform-reference: the reference client passes wschaos conform, in
## virtual time, under every shipped profile and the example profile file
## written from a library's docs (examples/profiles).
conform-reference:
	$(GO) build -o $(EXAMPLE_REPORTS)/wschaos ./cmd/wschaos
	@set -e; for p in $$($(EXAMPLE_REPORTS)/wschaos profile list | awk '{print $$1}') examples/profiles/*.yaml; do \
		echo "== conform --reference --profile $$p"; \
		$(EXAMPLE_REPORTS)/wschaos conform --reference --profile $$p > $(EXAMPLE_REPORTS)/reference.txt 2>&1 \
			|| { cat $(EXAMPLE_REPORTS)/reference.txt; exit 1; }; \
		tail -1 $(EXAMPLE_REPORTS)/reference.txt; \
	done

## real-clients: wschaos conform against real client libraries from npm
## and the seeds' clients (examples/*/conform.args), JOBS at a time; each
## known upstream bug is an --expect-fail with its reason, and
## docs/real-clients.md says what each one is.
JOBS ?= 2
real-clients:
	JOBS=$(JOBS) REPORTS=$(EXAMPLE_REPORTS)/real bash examples/real-clients.sh
