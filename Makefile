# libnn: a deep-learning course in C.
#
#   make              install what is missing (tools/deps), build, run the guided tour
#   make test         build and run every test of the solutions; ends "N passed, N failed, N skipped"
#   make test DEBUG=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench        GEMM backends in GFLOP/s, as ratios against OpenBLAS (and cuBLAS with a GPU)
#   make fuzz         each loader's libFuzzer target for FUZZ_SECONDS (default 30) each
#   make data         full MNIST, Fashion-MNIST, CIFAR-10 (NN_DATA_MIRROR=dir for offline machines)
#
# Options: DEBUG=1, NO_OPENBLAS=1, NO_CUDA=1 (build as if absent), ARCH= (portable code,
# no -march=native), NN_NO_INSTALL=1 (never install packages, only report), V=1 (show commands),
# BUILD=dir (where objects go), LAB=NN-topic (build that chapter from labs/).

.DEFAULT_GOAL := all
SHELL := /bin/bash

# Detection runs in the inner make, after tools/deps has installed packages.
ifeq ($(NN_DEPS_DONE),)
all lib test bench fuzz tour: deps
	@$(MAKE) --no-print-directory NN_DEPS_DONE=1 $@
deps:
	@tools/deps $(if $(filter test fuzz,$(MAKECMDGOALS)),--with-tests)
.PHONY: all lib test bench fuzz tour deps
else

CC     ?= cc
ARCH   ?= -march=native
CFLAGS := -std=c11 -Wall -Wextra -Wshadow -D_POSIX_C_SOURCE=200809L $(ARCH) -MMD -MP
LDLIBS := -lz -lm

ifeq ($(DEBUG),1)
  BUILD  ?= build/debug
  CFLAGS += -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  BUILD  ?= build
  CFLAGS += -O3 -g
endif

# LAB=00-foundations builds that chapter from labs/ (the student's files)
# instead of solutions/; every other chapter still comes from solutions/.
SRC_DIRS := $(wildcard solutions/*/)
ifneq ($(LAB),)
  ifeq ($(wildcard labs/$(LAB)/),)
    $(error LAB=$(LAB): there is no labs/$(LAB)/; run `make labs` or pick one of: $(notdir $(wildcard labs/*)))
  endif
  SRC_DIRS := $(patsubst solutions/$(LAB)/,labs/$(LAB)/,$(SRC_DIRS))
  CFLAGS   += -Wno-unused-function -Wno-unused-parameter -Wno-unused-variable -Wno-unused-but-set-variable
endif
LIB_DIR := $(filter %/00-foundations/,$(SRC_DIRS))
LIB_DIR := $(LIB_DIR:%/=%)
CPPFLAGS := $(foreach d,$(SRC_DIRS),-I$(d))
CU_OPTIONAL := $(LIB_DIR)/nn_nocuda.c $(LIB_DIR)/nn_noblas.c $(LIB_DIR)/nn_gemm_openblas.c
C_SRC := $(filter-out $(CU_OPTIONAL),$(wildcard $(SRC_DIRS:%=%*.c)))

# ---- what this machine has: each optional part says ✓ or ✗ and what happens instead
ifneq ($(NN_QUIET),1)
  say = $(info $(1))
endif
HAVE_OPENBLAS := $(if $(NO_OPENBLAS),,$(shell pkg-config --exists openblas 2>/dev/null && echo y))
ifeq ($(HAVE_OPENBLAS),y)
  C_SRC    += $(LIB_DIR)/nn_gemm_openblas.c
  CPPFLAGS += $(shell pkg-config --cflags openblas)
  LDLIBS   += $(shell pkg-config --libs openblas)
  $(call say,✓ OpenBLAS: nn_sgemm uses cblas_sgemm on CPU)
else
  C_SRC    += $(LIB_DIR)/nn_noblas.c
  $(call say,✗ OpenBLAS: $(if $(NO_OPENBLAS),off (NO_OPENBLAS=1),not found (apt-get install libopenblas-dev)); nn_sgemm uses the library's blocked kernel)
endif

NVCC := $(if $(NO_CUDA),,$(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null))
ifneq ($(NVCC),)
  CUDA_HOME := $(patsubst %/bin/nvcc,%,$(NVCC))
  CU_SRC    := $(wildcard $(SRC_DIRS:%=%*.cu))
  NVCCFLAGS := -O3 -std=c++17 $(CPPFLAGS) -Xcompiler -Wall -arch=sm_80 \
               -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
               -gencode arch=compute_90,code=compute_90 $(if $(LAB),-diag-suppress 177)
  LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++
  $(call say,✓ CUDA: $(NVCC) (GPU tests run when a GPU is present, else they are skipped))
else
  CU_SRC :=
  C_SRC  += $(LIB_DIR)/nn_nocuda.c
  $(call say,✗ CUDA: $(if $(NO_CUDA),off (NO_CUDA=1),nvcc not found); CPU only, GPU tests are skipped)
endif

ifneq ($(shell command -v gnuplot 2>/dev/null),)
  $(call say,✓ gnuplot: charts are written as PNG)
else
  $(call say,✗ gnuplot: charts are written as data + script only (apt-get install gnuplot-nox))
endif

# stb_image / stb_image_write from Debian's libstb-dev: headers in /usr/include/stb, code in libstb.
STB_CFLAGS := $(shell pkg-config --cflags stb 2>/dev/null || echo -I/usr/include/stb)
STB_LIBS   := $(shell pkg-config --libs stb 2>/dev/null || echo -lstb)
CPPFLAGS   += $(STB_CFLAGS)
LDLIBS     += $(STB_LIBS)

# Short lines while building ("CC file"); V=1 shows the full commands.
ifneq ($(V),1)
  show = @printf '  %-6s %s\n' $(1) $(2);
endif

OBJ := $(C_SRC:%.c=$(BUILD)/obj/%.o) $(CU_SRC:%.cu=$(BUILD)/obj/%.cu.o)
LIB := $(BUILD)/libnn.a

# ---- the library and the command
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call show,CC,$<)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(@D)
	$(call show,NVCC,$<)$(NVCC) $(NVCCFLAGS) -c $< -o $@

$(LIB): $(OBJ)
	@rm -f $@
	$(call show,AR,$@)ar rcs $@ $^

NN_SRC := $(wildcard tools/nn/*.c)
$(BUILD)/nn: $(NN_SRC:%.c=$(BUILD)/obj/%.o) $(LIB)
	$(call show,LD,$@)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# ---- tests: autograder/tests/CH/test_*.c are Criterion programs, test_*.sh are scripts
TEST_C   := $(wildcard autograder/tests/*/test_*.c)
TEST_BIN := $(TEST_C:autograder/tests/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/%: autograder/tests/%.c $(LIB)
	@mkdir -p $(@D)
	$(call show,TEST,$@)$(CC) $(CPPFLAGS) $(CFLAGS) -Iautograder/tests $< $(LIB) $(LDFLAGS) -lcriterion $(LDLIBS) -o $@

# ---- benchmarks
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(call show,BENCH,$@)$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# ---- fuzzers: autograder/fuzz/fuzz_*.c, clang -fsanitize=fuzzer,address, library sources compiled in
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(wildcard autograder/fuzz/fuzz_*.c)
# A fuzzer needs only the CPU library: no OpenBLAS, no CUDA.
FUZZ_LIB_SRC := $(filter-out $(CU_OPTIONAL),$(wildcard $(SRC_DIRS:%=%*.c))) $(LIB_DIR)/nn_noblas.c $(LIB_DIR)/nn_nocuda.c
build/fuzz/%: autograder/fuzz/%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(@D)
	$(call show,FUZZ,$@)clang -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined \
	  $(foreach d,$(SRC_DIRS),-I$(d)) $(STB_CFLAGS) $^ -lz -lm $(STB_LIBS) -o $@

.PHONY: all lib test bench fuzz tour
all: $(LIB) $(BUILD)/nn
	@$(BUILD)/nn tour

lib: $(LIB)

tour: $(BUILD)/nn
	@$(BUILD)/nn tour

test: $(LIB) $(BUILD)/nn $(TEST_BIN)
	@tools/runtests $(BUILD)

bench: $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done

fuzz: $(FUZZ_SRC:autograder/fuzz/%.c=build/fuzz/%)
	@tools/runfuzz $(FUZZ_SECONDS) $^

-include $(OBJ:.o=.d) $(NN_SRC:%.c=$(BUILD)/obj/%.d)
endif

.PHONY: data clean labs check-labs
data:
	@tools/fetch-data

labs:
	@tools/mklabs

check-labs:
	@tools/mklabs --check

clean:
	rm -rf build
