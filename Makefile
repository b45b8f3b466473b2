# Thin wrapper over CMake. `make demo` and `make test` do all set-up on a fresh Debian 12 machine.
BUILD      ?= build
JOBS       ?= $(shell nproc)
TORCH_DIR  ?=
CMAKE_ARGS ?=
CMAKE_CONFIGURE = cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(if $(TORCH_DIR),-DTORCH_DIR=$(TORCH_DIR)) $(CMAKE_ARGS)

.PHONY: all deps configure build test demo bench fuzz format format-check golden-update grammar clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	@$(MAKE) --no-print-directory deps
	$(CMAKE_CONFIGURE)

configure: deps
	$(CMAKE_CONFIGURE)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The demo needs only the mhr binary (and its backend library), not the tests and benchmarks.
demo: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target mhr
	scripts/demo.sh $(BUILD)

bench: build
	scripts/bench.sh $(BUILD)

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
