# Thin wrapper over CMake. `make demo` and `make test` do all set-up on a fresh Debian 12 machine.
#   TORCH=      (default) Debian's LibTorch 1.13, CPU, in build/
#   TORCH=pip   PyTorch 2.15's LibTorch (CUDA 13 build) from the project's venv (.venv/, or MHR_VENV=DIR;
#               pins in scripts/venv/requirements.txt), in build-pip/
#   TORCH_DIR=  any other LibTorch (the folder holding TorchConfig.cmake)
TORCH      ?=
JOBS       ?= $(shell nproc)
TORCH_DIR  ?=
CMAKE_ARGS ?=
ifeq ($(TORCH),pip)
BUILD      ?= build-pip
MHR_VENV   ?= $(CURDIR)/.venv
export MHR_VENV
# Resolved when the recipe runs, after scripts/venv.sh made the venv.
TORCH_ARGS  = -DTORCH_DIR=$$($(MHR_VENV)/bin/python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')/Torch \
              -DMHR_PYTHON=$(MHR_VENV)/bin/python
VENV_STEP   = scripts/venv.sh >/dev/null
else ifeq ($(TORCH),)
BUILD      ?= build
TORCH_ARGS  = $(if $(TORCH_DIR),-DTORCH_DIR=$(TORCH_DIR))
VENV_STEP   = true
else
$(error TORCH=$(TORCH): expected TORCH=pip, or no TORCH for Debian's LibTorch (TORCH_DIR=... for another))
endif
CMAKE_CONFIGURE = cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(TORCH_ARGS) $(CMAKE_ARGS)

.PHONY: all deps venv configure build test demo study bench bench-quick fuzz format format-check golden-update grammar clean

all: build

deps:
	@scripts/install-deps.sh
	@$(VENV_STEP)

# The project's Python venv (torch 2.15 + the Python references); `make bench` adds the anchors (--bench).
venv:
	scripts/venv.sh

$(BUILD)/CMakeCache.txt:
	@$(MAKE) --no-print-directory deps
	$(CMAKE_CONFIGURE)

configure: deps
	$(CMAKE_CONFIGURE)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# After ctest: every skipped test with its reason (e.g. "no CUDA device"), and the counts on one line.
test: build
	cd $(BUILD) && rc=0; ctest --output-on-failure -j $(JOBS) --output-junit ctest-junit.xml $(CTEST_ARGS) || rc=$$?; \
	  python3 $(CURDIR)/scripts/test-summary.py ctest-junit.xml $(if $(TORCH),torch-$(TORCH),tests); exit $$rc

# The demo needs only the mhr binary (and its backend library), not the tests and benchmarks.
demo: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target mhr
	scripts/demo.sh $(BUILD)

# The pre-registered MorphHR study (experiments/study/PROTOCOL.md): about an hour on 2 cores, resumable;
# writes experiments/study/RESULTS.md, results.csv and results.html from its tracker (study-out/).
STUDY_ARGS ?=
study: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target mhr
	python3 experiments/study/study.py --mhr $(BUILD)/mhr $(STUDY_ARGS)

# The anchors are the real current packages from the venv (scripts/venv.sh --bench: offline once downloaded).
# The like-for-like LibTorch 2.15 runtime rows need `make build TORCH=pip` first (build-pip/).
# BENCH_QUICK=1 (or `make bench-quick`): tiny sizes, checks every bench script still runs and prints its rows.
bench: build
	scripts/venv.sh --bench >/dev/null
	scripts/bench.sh $(BUILD)

bench-quick: build
	scripts/venv.sh --bench >/dev/null
	BENCH_QUICK=1 scripts/bench.sh $(BUILD)

# libFuzzer over the front end (clang + sanitizers), seeded with the golden files. FUZZ_SECONDS=600 for the
# full 10-minute run.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

format:
	git ls-files '*.cpp' '*.h' | grep -v '^grammar/generated/' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.h' | grep -v '^grammar/generated/' | xargs clang-format --dry-run --Werror

# Rewrite the expected outputs of the golden tests from the current compiler (review the diff!).
golden-update: build
	cd $(BUILD) && MHR_UPDATE_GOLDEN=1 ctest -L golden -j $(JOBS)

grammar:
	scripts/gen-grammar.sh

clean:
	rm -rf $(BUILD)
