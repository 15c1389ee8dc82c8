# Two commands do all set-up on a fresh machine (see README.md):
#   make demo   creates .venv (Python 3.10) if missing, then compiles an example and prints its report
#   make test   same environment, then lint (ruff, mypy) and the whole test suite
VENV     := .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.snnc-installed
EXTRAS   := lava,nir,plot,dev,mpi,nwb
DEMO_NET := examples/design_note/net.yaml
# snnc is installed in setuptools' strict editable mode: a tree of links to the sources under
# build/__editable__.*, which type checkers read (the default mode's import hook is invisible to
# them) and which holds only the snnc.* packages (ir/ is snnc.ir, never a top-level `ir`). A file
# added to or removed from a package needs a reinstall, so the stamp depends on the list of files.
EDITABLE := --config-settings editable_mode=strict
PKG_DIRS := snnc ir models compiler backends
FILES    := $(VENV)/.snnc-files
$(shell mkdir -p $(VENV) && find $(PKG_DIRS) -type f \( -name '*.py' -o -name '*.yaml' -o -name py.typed \) \
	| LC_ALL=C sort > $(FILES).new && { cmp -s $(FILES).new $(FILES) && rm -f $(FILES).new || mv $(FILES).new $(FILES); })

.PHONY: demo test lint venv clean-venv bench ltc-train ltc-check docs-images pynn-check

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/find-python310.sh $(FILES)
	@py310=$$(scripts/find-python310.sh) || exit 1; \
	if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$py310"; "$$py310" -m venv $(VENV) || exit 1; fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[$(EXTRAS)]' $(EDITABLE)
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/snnc validate $(DEMO_NET)
	@build=$$(mktemp -d) && $(VENV)/bin/snnc compile $(DEMO_NET) --target loihi-sim -o $$build \
		&& $(VENV)/bin/snnc report $$build; status=$$?; rm -rf $$build; exit $$status

# pytest from its script, not `python -m pytest`: that would put the repository root on sys.path
test: lint
	$(VENV)/bin/pytest -q -p no:cacheprovider -n 2 tests

# ruff and mypy on the package folders (their configuration is in pyproject.toml). mypy reads the
# installed link tree: from the repository root, the folder snnc/ alone would shadow it.
lint: $(STAMP)
	$(VENV)/bin/ruff check $(PKG_DIRS)
	MYPYPATH=$$($(PY) -I -c 'import pathlib, snnc; print(pathlib.Path(snnc.__file__).parents[1])') \
		$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[$(EXTRAS),bench]' $(EDITABLE)

# examples/ltc: train the LTC cells in PyTorch (its own Python 3.11 venv: torch stays out of
# snnc's install), then check snnc's float reference against torch's outputs
ltc-train:
	@[ -x .venv-ltc/bin/python ] || python3.11 -m venv .venv-ltc
	.venv-ltc/bin/pip install --quiet torch==2.13.0 numpy
	.venv-ltc/bin/python examples/ltc/train_ltc.py

ltc-check: $(STAMP)
	$(PY) examples/ltc/run_snnc.py

# snnc export-pynn checked under pyNN.nest (docs/export-pynn.md): NEST from its PyPI wheel and
# PyNN 0.13 in their own Python 3.10 venv (.venv-nest, kept out of snnc's), then the exported W1 and
# microcircuit (scale 0.1) run there and their per-population rates are compared with the reference's
NEST_VENV := .venv-nest
NEST_STAMP := $(NEST_VENV)/.installed

$(NEST_STAMP): scripts/find-python310.sh
	@py310=$$(scripts/find-python310.sh) || exit 1; \
	if [ ! -x $(NEST_VENV)/bin/python ]; then "$$py310" -m venv $(NEST_VENV) || exit 1; fi
	$(NEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(NEST_VENV)/bin/python -m pip install --quiet nest-simulator==3.10.0 pynn==0.13.0
	@touch $(NEST_STAMP)

pynn-check: $(STAMP) $(NEST_STAMP)
	$(PY) benchmarks/pynn_check.py --nest-python $(NEST_VENV)/bin/python

# the heat maps and rasters shown in docs/plots.md, from the code that draws them
docs-images: $(STAMP)
	$(PY) scripts/docs_images.py docs/images

clean-venv:
	rm -rf $(VENV)
