# Vigil: keepalived, rebuilt as gRPC-controlled services. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

DOTNET     ?= dotnet
CONFIG     ?= Release
OUT        := $(CURDIR)/out
TOOLS      := $(CURDIR)/.tools
BUF        := $(TOOLS)/node_modules/.bin/buf
# One multi-call binary (services/vigil): out/vigil, and out/vigil-controld, vigil-vrrpd,
# vigil-checkd, vigil-ipvsd and vigilctl as links to it.
MULTICALL  := services/vigil/Vigil.Programs.csproj
LINKS      := vigil-controld vigil-vrrpd vigil-checkd vigil-ipvsd vigilctl
# NativeAOT links the binary with the system's C toolchain and zlib (defined first: the lists
# below expand it where they are defined).
AOT_APT_PACKAGES := gcc libc6-dev zlib1g-dev
# Debian packages the tests use: independent peers (keepalived, python3-grpcio, nginx, dnsmasq),
# lab tooling (iproute2, nftables, tcpdump, tshark, arping) and the IPVS VM (qemu, Debian kernel).
APT_PACKAGES := keepalived python3-grpcio python3-grpc-tools python3-protobuf nginx-light \
              dnsmasq-base tcpdump tshark arping nftables iproute2 iputils-ping procps \
              qemu-system-x86 linux-image-amd64 busybox-static ipvsadm kmod xz-utils openssl strace cpio curl \
              $(AOT_APT_PACKAGES)
# What `make demo` alone needs (the lab, its capture, and the LVS real servers).
DEMO_APT_PACKAGES := iproute2 iputils-ping tcpdump nftables nginx-light procps curl $(AOT_APT_PACKAGES)
BUF_VERSION := 1.75.0
# NativeAOT: one self-contained native binary, no JIT at start or at a first takeover (a backup's
# first takeover was 13 to 20 ms late on the JIT, bench/results/failover-analysis.md), and the
# smallest footprint (bench/results/footprint.md). `make build PUBLISH_FLAGS='$(R2R_FLAGS)'`
# builds the framework-dependent ReadyToRun variant instead, `PUBLISH_FLAGS=` plain IL.
AOT_FLAGS     := -r linux-x64 -p:PublishAot=true
R2R_FLAGS     := -r linux-x64 --self-contained false -p:PublishReadyToRun=true
PUBLISH_FLAGS ?= $(AOT_FLAGS)
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export VIGIL_OUT := $(OUT)
export VIGIL_BUF := $(BUF)

.PHONY: help deps deps-apt deps-demo apt-install deps-npm deps-nuget build unit test test-lab lint-protos demo bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: deps-apt deps-npm deps-nuget ## install everything the build and tests need (idempotent)

deps-apt: ## the Debian packages the tests use
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

deps-demo: ## the Debian packages `make demo` uses, and the NuGet packages
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(DEMO_APT_PACKAGES)"
	@$(MAKE) --no-print-directory deps-nuget

apt-install:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "apt: all packages present"; fi

deps-npm:
	@if [ -x $(BUF) ] && $(BUF) --version | grep -qx '$(BUF_VERSION)'; then echo "npm: buf $(BUF_VERSION) present"; \
	else mkdir -p $(TOOLS) && cd $(TOOLS) && npm install --no-audit --no-fund --silent @bufbuild/buf@$(BUF_VERSION); fi

deps-nuget:
	$(DOTNET) restore Vigil.sln

build: ## build the programs into out/ (vigil, and vigil-controld, vigil-vrrpd, vigil-checkd, vigil-ipvsd, vigilctl linked to it)
	@rm -rf $(OUT) && mkdir -p $(OUT)
	$(DOTNET) publish $(MULTICALL) -c $(CONFIG) -o $(OUT) --nologo -v:q -p:UseAppHost=true $(PUBLISH_FLAGS)
	@cd $(OUT) && for l in $(LINKS); do ln -sfn vigil $$l; done
	@ls -l $(OUT)/vigil $(addprefix $(OUT)/,$(LINKS)) | awk '{print $$9, $$10, $$11}'

unit: ## fast tests only (no namespaces, no external peers)
	$(DOTNET) test Vigil.sln -c $(CONFIG) --filter 'Category!=Lab&Category!=Interop&Category!=Conformance&Category!=Vm&Category!=Daemon' --nologo

lint-protos: deps-npm ## buf lint and buf format on protos/
	cd protos && $(BUF) lint && $(BUF) format --diff --exit-code

test: deps build lint-protos ## install what tests need, then run every test
	$(DOTNET) test Vigil.sln -c $(CONFIG) --nologo --logger 'console;verbosity=normal'

demo: deps-demo build ## install what it needs, build, then fail a VIP over between two namespaced routers
	@bash deploy/demo/run-demo.sh

bench: build ## run the benchmarks; results go to bench/results/
	@bash bench/run-all.sh

clean: ## remove build output
	rm -rf $(OUT) $$(find . -name bin -o -name obj -type d -not -path './.tools/*')
