# Gatehouse — the commands in the README.
#
#   make demo   run the gateway on embedded defaults (http://127.0.0.1:8080)
#   make test   run the whole test suite, installing what it needs

GO      ?= go
# OS packages the tests drive for real (installed by scripts/test-deps.sh
# when missing). Grows as the suites that need them land.
TEST_DEPS ?= redis-server redis-cli nginx caddy chromium node npm

.PHONY: demo build test test-deploy vet fuzz clean

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
	$(MAKE) test-deploy

# The deployment files' tests (Dockerfile, Kubernetes manifests): a separate
# module, so BuildKit, kustomize and k8s.io/api stay out of the gateway's
# go.mod. No Docker engine or cluster needed.
test-deploy:
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...

# Each fuzz target for a bounded time (FUZZTIME, default 30s).
FUZZTIME ?= 30s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf bin
