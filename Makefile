# Two commands do all set-up on a fresh machine (see README.md):
#   make demo   creates .venv (Python 3.10) if missing, then compiles an example and prints its report
#   make test   same environment, then the whole test suite
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.snnc-installed
EXTRAS   := lava,nir,plot,dev
DEMO_NET := examples/design_note/net.yaml

.PHONY: demo test venv clean-venv bench

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/find-python310.sh
	@py310=$$(scripts/find-python310.sh) || exit 1; \
	if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$py310"; "$$py310" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/snnc validate $(DEMO_NET)
	@build=$$(mktemp -d) && $(VENV)/bin/snnc compile $(DEMO_NET) --target loihi-sim -o $$build \
		&& $(VENV)/bin/snnc report $$build; status=$$?; rm -rf $$build; exit $$status

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 tests

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[$(EXTRAS),bench]'

clean-venv:
	rm -rf $(VENV)
