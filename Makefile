# wschaos: the two everyday commands are `make test` and `make check`.
GO      ?= go
GINKGO  ?= $(GO) tool ginkgo
# Specs and packages run with the race detector; the scenario suite in a
# random order, so hidden coupling between specs shows up.
GINKGO_FLAGS ?= -race --randomize-all --timeout=10m $(if $(CI),--no-color)

.PHONY: test unit scenarios check vet fmt bench rewrite

## test: everything: unit tests of every package, then the scenario suite.
test: unit scenarios

unit:
	$(GO) test -race $$($(GO) list ./... | grep -v '^github.com/wschaos/wschaos$$')

scenarios:
	$(GINKGO) $(GINKGO_FLAGS) .

## check: formatting and vet, as CI runs them.
check: vet fmt

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: the wall time of long virtual-time scenarios.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./scenarios/ ./proxy/

## rewrite: regenerate the expected outputs of scenario files from the
## reference client; review the diff before committing it.
rewrite:
	$(GO) test -count=1 . -run TestScenarios -args -rewrite -ginkgo.label-filter='bug'
