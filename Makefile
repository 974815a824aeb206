# Gatehouse — the commands in the README.
#
#   make demo   run the gateway on embedded defaults (http://127.0.0.1:8080)
#   make test   run the whole test suite, installing what it needs, and
#               every fuzz target briefly
#   make fuzz   run every fuzz target for FUZZTIME each
#   make bench  the end-to-end load test (wrk) against a bare reverse proxy

GO      ?= go
# OS packages the tests drive for real (installed by scripts/test-deps.sh
# when missing). Grows as the suites that need them land.
TEST_DEPS ?= redis-server redis-cli nginx caddy chromium node npm pyjwt

.PHONY: demo build test test-deploy vet fuzz bench clean

demo:
	$(GO) run ./cmd/gateway demo

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/gateway ./cmd/gateway

test:
	./scripts/test-deps.sh $(TEST_DEPS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 14m ./...
	./scripts/fuzz.sh $(CI_FUZZTIME)
	$(MAKE) test-deploy

# The deployment files' tests (Dockerfile, Kubernetes manifests): a separate
# module, so BuildKit, kustomize and k8s.io/api stay out of the gateway's
# go.mod. No Docker engine or cluster needed.
test-deploy:
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...

# Each fuzz target for a bounded time (FUZZTIME, default 30s). `make test`
# runs each for CI_FUZZTIME (about 75 s for all of them on 2 cores), so a
# seed in testdata/fuzz that fails again, or a shallow crash, fails CI.
FUZZTIME ?= 30s
CI_FUZZTIME ?= 3s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# The end-to-end load test of docs/performance.md: builds the gateway, a
# bare httputil.ReverseProxy and an upstream (bench/), checks each gateway
# configuration refuses bad tokens, then loads every case with wrk in
# interleaved rounds and prints the table. About 4 minutes by default.
BENCH_DURATION ?= 5s
BENCH_ROUNDS   ?= 3
BENCH_CONNS    ?= 32
bench:
	./scripts/test-deps.sh wrk
	$(GO) run ./bench/load -duration $(BENCH_DURATION) -rounds $(BENCH_ROUNDS) -conns $(BENCH_CONNS)

clean:
	rm -rf bin
