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
# Debian packages the tests use: independent peers (keepalived, python3-grpcio, nginx, dnsmasq,
# prometheus: the scraper of the metrics endpoint), lab tooling (iproute2, nftables, tcpdump,
# tshark, arping), the IPVS VM (qemu, Debian kernel) and systemd-analyze (systemd) for the units.
APT_PACKAGES := keepalived python3-grpcio python3-grpc-tools python3-protobuf nginx-light \
              dnsmasq-base tcpdump tshark arping nftables iproute2 iputils-ping procps \
              qemu-system-x86 linux-image-amd64 busybox-static ipvsadm kmod xz-utils openssl strace cpio curl \
              prometheus systemd \
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
# `make install`: where the programs, units and files go (DESTDIR stages them, for packaging and the
# tests). The units' ExecStart paths are written from LIBEXECDIR at install time. The configuration
# stays keepalived's own /etc/keepalived/keepalived.conf whatever the prefix (SYSCONFDIR).
PREFIX      ?= /usr/local
LIBEXECDIR  ?= $(PREFIX)/lib/vigil
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
UNITDIR     ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR      ?= $(PREFIX)/share/doc/vigil
SYSCONFDIR  ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DAEMONS     := vigil-controld vigil-vrrpd vigil-checkd vigil-ipvsd
UNITS       := vigil.target $(addsuffix .service,$(DAEMONS))
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export VIGIL_OUT := $(OUT)
export VIGIL_BUF := $(BUF)

.PHONY: help deps deps-apt deps-demo apt-install deps-npm deps-nuget build unit test test-lab lint-protos demo bench clean install uninstall

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

install: ## install out/ (make build first) under $(DESTDIR)$(PREFIX): programs, systemd units, tmpfiles.d, a sample configuration
	@test -x $(OUT)/vigil || { echo "$(OUT)/vigil is missing: run make build first" >&2; exit 1; }
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSCONFDIR)/keepalived
	install -m 0755 $(OUT)/vigil $(DESTDIR)$(LIBEXECDIR)/vigil
	@for l in $(DAEMONS) vigilctl; do ln -sfn vigil $(DESTDIR)$(LIBEXECDIR)/$$l; done
	ln -sfn $$(realpath -m --relative-to=$(BINDIR) $(LIBEXECDIR)/vigil) $(DESTDIR)$(BINDIR)/vigilctl
	ln -sfn $$(realpath -m --relative-to=$(SBINDIR) $(LIBEXECDIR)/vigil) $(DESTDIR)$(SBINDIR)/vigil-controld
	@for u in $(UNITS); do \
	  sed -e 's|@libexecdir@|$(LIBEXECDIR)|g' -e 's|@sysconfdir@|$(SYSCONFDIR)|g' deploy/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u && echo "installed $(DESTDIR)$(UNITDIR)/$$u"; \
	done
	install -m 0644 deploy/tmpfiles.d/vigil.conf $(DESTDIR)$(TMPFILESDIR)/vigil.conf
	install -d $(DESTDIR)$(BASHCOMPDIR) && $(OUT)/vigilctl completion bash > $(DESTDIR)$(BASHCOMPDIR)/vigilctl
	install -m 0644 deploy/examples/keepalived.conf $(DESTDIR)$(DOCDIR)/examples/keepalived.conf
	@# An existing configuration is never replaced.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/keepalived/keepalived.conf ]; then echo "kept $(DESTDIR)$(SYSCONFDIR)/keepalived/keepalived.conf"; \
	else install -m 0640 deploy/examples/keepalived.conf $(DESTDIR)$(SYSCONFDIR)/keepalived/keepalived.conf && echo "installed the sample $(DESTDIR)$(SYSCONFDIR)/keepalived/keepalived.conf"; fi
	@echo "then: systemctl daemon-reload && systemctl enable --now vigil.target $(DAEMONS)"

uninstall: ## remove what `make install` installed (same PREFIX and DESTDIR), except the configuration
	rm -f $(DESTDIR)$(LIBEXECDIR)/vigil $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(DAEMONS) vigilctl) \
	  $(DESTDIR)$(BINDIR)/vigilctl $(DESTDIR)$(SBINDIR)/vigil-controld $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
	  $(DESTDIR)$(TMPFILESDIR)/vigil.conf $(DESTDIR)$(DOCDIR)/examples/keepalived.conf $(DESTDIR)$(BASHCOMPDIR)/vigilctl
	-rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

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
