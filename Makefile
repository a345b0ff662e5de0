# libnn: a deep-learning course in C.
#
#   make              install what is missing (tools/deps), build, run the guided tour
#   make test         build and run every test of the solutions; ends "N passed, N failed, N skipped"
#   make test DEBUG=1 the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench        GEMM backends in GFLOP/s, as ratios against OpenBLAS (and cuBLAS with a GPU);
#                     MLP and CNN training in images/s against PyTorch CPU (when python3 can import
#                     torch), Conv2d forward GFLOP/s against the GEMM's
#   make fuzz         each loader's libFuzzer target for FUZZ_SECONDS (default 30) each
#   make data         full MNIST, Fashion-MNIST, CIFAR-10, NSMC (NN_DATA_MIRROR=dir for offline machines)
#   make grade CH=00  grade labs/00-*: a table with feedback per test, results.json for Gradescope
#                     (SUBMISSION=dir grades the lab's files found there, SOLUTIONS=1 solutions/';
#                     HIDDEN_DIR=dir an instructor's hidden tests; GRADE_FLAGS=--seed N ...)
#   make demo CH=02   every demo of a chapter (./build/nn run 02)
#   make measured CH=02  rerun what chapter 02 quotes (its measured blocks) and rewrite them
#                     with this machine's output (tools/measured; minutes: it trains)
#   make check-weave  the chapters' code matches solutions/ and their cheap measured blocks
#                     still match what their commands print (part of make test)
#   make test-gpu-emu every test with a GPU part, its .cu files run on the CPU by the CUDA
#                     emulation tools/cuda-emu (DEBUG=1: under the sanitizers); no GPU needed
#   make handout      the student release (no solutions/, no hidden tests) in build/handout/
#   make gradescope CH=00  the Gradescope autograder zip of a chapter, in build/
#
# Options: DEBUG=1, NO_OPENBLAS=1, NO_CUDA=1 (build as if absent), CUDA_EMU=1 (.cu files on the
# CPU, tools/cuda-emu; in build/gpu-emu), ARCH= (portable code,
# no -march=native), NN_NO_INSTALL=1 (never install packages, only report), V=1 (show commands),
# BUILD=dir (where objects go), LAB=NN-topic (build that chapter from labs/).

.DEFAULT_GOAL := all
SHELL := /bin/bash

# Detection runs in the inner make, after tools/deps has installed packages.
ifeq ($(NN_DEPS_DONE),)
all lib test test-gpu-emu bench fuzz tour grade grade-prepare demo measured check-weave: deps
	@$(MAKE) --no-print-directory NN_DEPS_DONE=1 $@
deps:
	@tools/deps $(if $(filter test test-gpu-emu fuzz grade grade-prepare,$(MAKECMDGOALS)),--with-tests)
.PHONY: all lib test test-gpu-emu bench fuzz tour grade grade-prepare demo measured check-weave deps
else

# make test-gpu-emu builds with the CUDA emulation (tools/cuda-emu), in a folder of its own.
ifneq ($(filter test-gpu-emu,$(MAKECMDGOALS)),)
  CUDA_EMU := 1
endif
ifeq ($(CUDA_EMU),1)
  BUILD ?= build/gpu-emu$(if $(filter 1,$(DEBUG)),-debug)
endif

CC     ?= cc
ARCH   ?= -march=native
# -fopenmp: libnn's one thread pool (nn_parallel.h); OMP_NUM_THREADS sets its size.
CFLAGS := -std=c11 -Wall -Wextra -Wshadow -D_POSIX_C_SOURCE=200809L $(ARCH) -MMD -MP -fopenmp
LDLIBS := -lz -lm
LDFLAGS += -fopenmp

# make grade CH=NN grades chapter NN as a student wrote it: the stub files of labs/NN-topic/
# (or of SUBMISSION=dir; or SOLUTIONS=1: solutions/'s) against the reference. The library,
# the tests and the reference come from this build; autograder/grader.c builds only the
# student's files, in a sandbox. RESULTS=results.json, GRADE_FLAGS= more options for it.
ifneq ($(filter grade grade-prepare,$(MAKECMDGOALS)),)
  ifeq ($(CH),)
    $(error make grade needs a chapter: make grade CH=00 (chapters: $(sort $(notdir $(wildcard solutions/* labs/*)))))
  endif
  GRADE_CH := $(notdir $(patsubst %/,%,$(firstword $(wildcard $(foreach d,solutions labs,$(d)/$(CH)/ $(d)/$(CH)-*/)))))
  ifeq ($(GRADE_CH),)
    $(error CH=$(CH): no chapter $(CH) in solutions/ or labs/; chapters: $(sort $(notdir $(wildcard solutions/* labs/*))))
  endif
  ifeq ($(DEBUG),1)
    $(info make grade ignores DEBUG=1: it re-runs a test that crashed under AddressSanitizer itself, and names the file and line)
    override DEBUG :=
  endif
  ifneq ($(SUBMISSION),)
    GRADE_SUBMISSION := $(patsubst %/,%,$(SUBMISSION))
  else ifeq ($(SOLUTIONS),1)
    GRADE_SUBMISSION := solutions/$(GRADE_CH)
  else
    GRADE_SUBMISSION := labs/$(GRADE_CH)
  endif
endif

ifeq ($(DEBUG),1)
  BUILD  ?= build/debug
  CFLAGS += -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
else
  BUILD  ?= build
  CFLAGS += -O3 -g
endif

# The course repository builds every chapter from solutions/. A student release
# (make handout) has no solutions/, so there every chapter builds from labs/.
# LAB=00-foundations builds that chapter from labs/ (the student's files), or
# from LAB_DIR=dir, while every other chapter comes from solutions/.
SRC_DIRS := $(or $(wildcard solutions/*/),$(wildcard labs/*/))
ifneq ($(LAB),)
  LAB_DIR ?= labs/$(LAB)
  ifeq ($(wildcard $(LAB_DIR)/),)
    $(error LAB=$(LAB): there is no $(LAB_DIR)/; run `make labs` or pick one of: $(notdir $(wildcard labs/*)))
  endif
  SRC_DIRS := $(patsubst labs/$(LAB)/,$(LAB_DIR)/,$(patsubst solutions/$(LAB)/,$(LAB_DIR)/,$(SRC_DIRS)))
endif
# A stub leaves its function's parameters unused: no warnings for that in lab code.
ifneq ($(filter-out solutions/%,$(SRC_DIRS)),)
  CFLAGS   += -Wno-unused-function -Wno-unused-parameter -Wno-unused-variable -Wno-unused-but-set-variable
endif
# Chapter 00's folder: the first (LAB_DIR may give it any name).
LIB_DIR := $(firstword $(SRC_DIRS))
LIB_DIR := $(LIB_DIR:%/=%)

# A chapter uses only itself and the chapters before it, and the build enforces it: a file
# of chapter NN (in its source folder or in autograder/tests/NN-topic/) compiles with -I of
# chapters 00..NN only, so including a later chapter's header fails ("nn_dense.h: No such
# file or directory"). Files of no chapter (tools/nn, bench, the autograder's own) see all.
# $(1) a source folder: its chapter (LAB_DIR is chapter LAB's)
dir_chapter = $(if $(and $(LAB),$(filter $(LAB_DIR)/,$(1))),$(LAB),$(notdir $(1:/=)))
# $(1) a chapter: its number (02-mlp -> 02)
chapter_num = $(firstword $(subst -, ,$(1)))
CHAPTERS := $(foreach d,$(SRC_DIRS),$(call dir_chapter,$(d)))
# $(1) a chapter number: the source folders of the chapters up to it
dirs_upto = $(foreach d,$(SRC_DIRS),$(if $(filter $(call chapter_num,$(call dir_chapter,$(d))),\
              $(firstword $(sort $(call chapter_num,$(call dir_chapter,$(d))) $(1)))),$(d)))
# $(1) a file: its chapter: that of the source folder it is in, else its folder's name if
# that is a chapter's (autograder/tests/02-mlp/x.c: 02-mlp), else none
file_chapter = $(or $(foreach d,$(filter $(dir $(1)),$(SRC_DIRS)),$(call dir_chapter,$(d))),\
                 $(filter $(CHAPTERS),$(notdir $(patsubst %/,%,$(dir $(1))))))
# $(1) a file: the chapters' -I it compiles with
chapter_includes = $(addprefix -I,$(if $(call file_chapter,$(1)),\
                     $(call dirs_upto,$(call chapter_num,$(call file_chapter,$(1)))),$(SRC_DIRS)))
# (so CPPFLAGS holds no chapter; each compile adds $(call chapter_includes,$<))
CPPFLAGS :=
# *nocuda.c (nn_nocuda.c, nn_mlp_nocuda.c, ...): a chapter's panicking stand-ins for
# its .cu launchers, compiled only when CUDA is off.
NOCUDA_SRC  := $(wildcard $(SRC_DIRS:%=%*nocuda.c))
CU_OPTIONAL := $(NOCUDA_SRC) $(LIB_DIR)/nn_noblas.c $(LIB_DIR)/nn_gemm_openblas.c
C_SRC := $(filter-out $(CU_OPTIONAL),$(wildcard $(SRC_DIRS:%=%*.c)))

comma := ,
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

# CUDA_EMU=1: tools/cuda-emu/nvcc compiles the .cu files as C++ whose kernels run on the CPU,
# and the emulation's runtime and cuBLAS (two .cc files) join the library.
ifeq ($(CUDA_EMU),1)
  NVCC := $(abspath tools/cuda-emu/nvcc)
  # the optimisation, debug and sanitizer flags of CFLAGS, for the emulation's C++ and the .cu files
  EMU_HOST_FLAGS = $(filter -O% -g -fsanitize% -fno-omit-frame-pointer -fno-sanitize-recover%,$(CFLAGS))
  CUDA_EMU_OBJ := $(BUILD)/obj/tools/cuda-emu/cuda_emu.o $(BUILD)/obj/tools/cuda-emu/cublas_emu.o
else
  NVCC := $(if $(NO_CUDA),,$(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null))
  # nvcc alone is not enough: the GPU backend links cuBLAS and the CUDA runtime.
  # Toolkits put them in lib64, lib or targets/<arch>/lib; Debian's in the
  # linker's own path. Without them the build is CPU-only, like without nvcc.
  ifneq ($(NVCC),)
    CUDA_HOME   := $(patsubst %/bin/nvcc,%,$(NVCC))
    CUDA_LIBDIR := $(firstword $(patsubst %/libcublas.so,%,$(wildcard \
                     $(CUDA_HOME)/lib64/libcublas.so $(CUDA_HOME)/lib/libcublas.so \
                     $(CUDA_HOME)/targets/*/lib/libcublas.so)))
    # The compiler names the full path of a library on its own search path, else just the name.
    CUDA_SYSLIB := $(if $(CUDA_LIBDIR),,$(filter /%,$(shell $(CC) -print-file-name=libcublas.so)))
    ifeq ($(CUDA_LIBDIR)$(CUDA_SYSLIB),)
      CUDA_MISSING := nvcc is $(NVCC) but libcublas.so is neither beside it ($(CUDA_HOME)/lib64, lib, targets/*/lib) nor on the linker's path
      NVCC :=
    else ifneq ($(CUDA_LIBDIR),)
      ifeq ($(wildcard $(CUDA_LIBDIR)/libcudart.so),)
        CUDA_MISSING := nvcc is $(NVCC) but $(CUDA_LIBDIR) has no libcudart.so
        NVCC :=
      endif
    endif
  endif
endif
ifeq ($(CUDA_EMU),1)
  CU_SRC    := $(wildcard $(SRC_DIRS:%=%*.cu))
  # the sanitizers of DEBUG=1 reach into the kernels: a read past a cudaMalloc block is caught
  NVCCFLAGS := $(EMU_HOST_FLAGS) -std=c++17 $(CPPFLAGS) -Xcompiler -Wall $(if $(LAB),-Wno-unused-parameter -Wno-unused-variable)
  LDLIBS    += -lstdc++
  $(call say,✓ CUDA: emulated on the CPU by tools/cuda-emu (CUDA_EMU=1): GPU tests run there, not on a GPU)
else ifneq ($(NVCC),)
  CU_SRC    := $(wildcard $(SRC_DIRS:%=%*.cu))
  NVCCFLAGS := -O3 -std=c++17 $(CPPFLAGS) -Xcompiler -Wall -arch=sm_80 \
               -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
               -gencode arch=compute_90,code=compute_90 $(if $(LAB),-diag-suppress 177)
  LDLIBS    += $(if $(CUDA_LIBDIR),-L$(CUDA_LIBDIR) -Wl$(comma)-rpath$(comma)$(CUDA_LIBDIR)) -lcublas -lcudart -lstdc++
  $(call say,✓ CUDA: $(NVCC) (GPU tests run when a GPU is present, else they are skipped))
else
  CU_SRC :=
  C_SRC  += $(NOCUDA_SRC)
  $(call say,✗ CUDA: $(if $(NO_CUDA),off (NO_CUDA=1),$(or $(CUDA_MISSING),nvcc not found)); CPU only, GPU tests are skipped)
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

OBJ := $(C_SRC:%.c=$(BUILD)/obj/%.o) $(CU_SRC:%.cu=$(BUILD)/obj/%.cu.o) $(CUDA_EMU_OBJ)
LIB := $(BUILD)/libnn.a

# ---- the library and the command
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call show,CC,$<)$(CC) $(call chapter_includes,$<) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu
	@mkdir -p $(@D)
	$(call show,NVCC,$<)$(NVCC) $(call chapter_includes,$<) $(NVCCFLAGS) -c $< -o $@

$(BUILD)/obj/tools/cuda-emu/%.o: tools/cuda-emu/%.cc $(wildcard tools/cuda-emu/include/*.h)
	@mkdir -p $(@D)
	$(call show,CXX,$<)$(CXX) -std=c++17 -Wall $(EMU_HOST_FLAGS) \
	  -Itools/cuda-emu/include -c $< -o $@

$(LIB): $(OBJ)
	@rm -f $@
	$(call show,AR,$@)ar rcs $@ $^

NN_SRC := $(wildcard tools/nn/*.c)
$(BUILD)/nn: $(NN_SRC:%.c=$(BUILD)/obj/%.o) $(LIB)
	$(call show,LD,$@)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# ---- tests: autograder/tests/CH/test_*.c are Criterion programs, test_*.sh are scripts
TEST_C   := $(wildcard autograder/tests/*/test_*.c)
TEST_BIN := $(TEST_C:autograder/tests/%.c=$(BUILD)/tests/%)
# Every test program links autograder/guard.c (exit() from a test or the library aborts:
# Criterion would count it as a pass), the GRADED_TEST runner for make test
# (autograder/graded.c, graded_local.c) and what several test files share
# (autograder/tests/*.c: the GPU tests' CPU comparison).
GUARD_OBJ := $(BUILD)/obj/autograder/guard.o
TEST_SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard autograder/tests/*.c) \
                      autograder/graded.c autograder/graded_local.c)
GUARD_LDFLAGS := -Wl,--wrap=exit,--wrap=_exit,--wrap=_Exit,--wrap=quick_exit
TEST_CPPFLAGS := -Iautograder -Iautograder/tests
$(BUILD)/obj/autograder/%.o: CPPFLAGS += $(TEST_CPPFLAGS)
.SECONDARY: $(GUARD_OBJ) $(TEST_SUPPORT_OBJ)
$(BUILD)/tests/%: autograder/tests/%.c $(LIB) $(GUARD_OBJ) $(TEST_SUPPORT_OBJ)
	@mkdir -p $(@D)
	$(call show,TEST,$@)$(CC) $(call chapter_includes,$<) $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) $< $(GUARD_OBJ) $(TEST_SUPPORT_OBJ) $(LIB) $(LDFLAGS) $(GUARD_LDFLAGS) -lcriterion $(LDLIBS) -o $@

# autograder/tests/tools/ tests tools/nn's own code (the `nn summary` spec format, the
# calculators of chapters not written yet): its programs link tools/nn's objects too (all
# but main's, as an archive: each takes what it uses) and see tools/nn's headers.
NN_TOOLS_LIB := $(BUILD)/nn-tools.a
$(NN_TOOLS_LIB): $(filter-out %/tools/nn/nn.o,$(NN_SRC:%.c=$(BUILD)/obj/%.o))
	@rm -f $@
	$(call show,AR,$@)ar rcs $@ $^
$(BUILD)/tests/tools/%: autograder/tests/tools/%.c $(NN_TOOLS_LIB) $(LIB) $(GUARD_OBJ) $(TEST_SUPPORT_OBJ)
	@mkdir -p $(@D)
	$(call show,TEST,$@)$(CC) $(call chapter_includes,$<) -Itools/nn $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) $< $(GUARD_OBJ) $(TEST_SUPPORT_OBJ) $(NN_TOOLS_LIB) $(LIB) $(LDFLAGS) $(GUARD_LDFLAGS) -lcriterion $(LDLIBS) -o $@

# ---- benchmarks
# bench/*.c are programs; bench/common/*.c what they share (timing, PyTorch as a child)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
BENCH_COMMON := $(wildcard bench/common/*.c)
$(BUILD)/bench/%: bench/%.c $(BENCH_COMMON) $(LIB)
	@mkdir -p $(@D)
	$(call show,BENCH,$@)$(CC) $(call chapter_includes,$<) $(CPPFLAGS) $(CFLAGS) -Ibench/common $< $(BENCH_COMMON) $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# ---- fuzzers: autograder/fuzz/fuzz_*.c, clang -fsanitize=fuzzer,address, library sources compiled in
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(wildcard autograder/fuzz/fuzz_*.c)
# A fuzzer needs only the CPU library: no OpenBLAS, no CUDA.
FUZZ_LIB_SRC := $(filter-out $(CU_OPTIONAL),$(wildcard $(SRC_DIRS:%=%*.c))) $(LIB_DIR)/nn_noblas.c $(NOCUDA_SRC)
build/fuzz/%: autograder/fuzz/%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(@D)
	$(call show,FUZZ,$@)clang -std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined \
	  $(foreach d,$(SRC_DIRS),-I$(d)) $(STB_CFLAGS) $^ -lz -lm $(STB_LIBS) -o $@

# ---- grading (autograder/grader.c; docs/instructor-guide.md, "The trust model")
# For chapter GRADE_CH make builds, from this (trusted) build:
#   the kit     what the grader builds a submission's worker from, readable by the user
#               nobody: the lab's stub files and headers, the compiler and link lines, the
#               library without the stub files (chapters up to this one), the graded test
#               files compiled for grading (-DNN_GRADING) and what the reference objects of
#               the stub files define and use (for the grader's object check);
#   the checker the same test objects linked with the whole library of this build
#               (solutions/); a student release has none, and its grade is a self-check.
RESULTS ?= results.json
GRADE_CC := $(BUILD)/grade
GRADER_SRC := autograder/grader.c autograder/grade_build.c autograder/grade_proc.c \
              autograder/grade_text.c autograder/sandbox.c
$(GRADE_CC): $(GRADER_SRC) $(wildcard autograder/grade_*.h autograder/sandbox.h)
	@mkdir -p $(@D)
	$(call show,CC,$@)$(CC) $(CFLAGS) $(GRADER_SRC) -ljansson -lseccomp -o $@

# Test files and the harness compiled for grading: GRADED_TESTs only, each registered by name.
GRADE_OBJ_DIR := $(BUILD)/grade-obj
GRADE_TEST_CFLAGS := -DNN_GRADING -Wno-unused-function -Wno-unused-variable -Wno-unused-but-set-variable
$(GRADE_OBJ_DIR)/%.o: %.c
	@mkdir -p $(@D)
	$(call show,CC,$@)$(CC) $(call chapter_includes,$<) $(CPPFLAGS) $(TEST_CPPFLAGS) $(CFLAGS) $(GRADE_TEST_CFLAGS) -c $< -o $@
# What only plain Criterion tests use stays out of it: the harness links no Criterion
# (calc_expect.c asserts with it), and the worker wraps malloc itself (alloc_count.c defines it).
TEST_ONLY_SUPPORT := autograder/tests/alloc_count.c autograder/tests/calc_expect.c
HARNESS_OBJ := $(patsubst %.c,$(GRADE_OBJ_DIR)/%.o,autograder/graded.c autograder/graded_main.c \
                 autograder/sandbox.c $(filter-out $(TEST_ONLY_SUPPORT),$(wildcard autograder/tests/*.c)))
# The worker and the checker say what a failed malloc asked for (graded_main.c).
GRADE_LDLIBS := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc $(LDLIBS) -lseccomp

ifneq ($(GRADE_CH),)
  graded_files = $(sort $(shell sed 's/\#.*//' $(1) 2>/dev/null | awk 'NF { print $$1 }'))
  GRADE_DIR    := $(BUILD)/grading/$(GRADE_CH)
  KIT          := $(GRADE_DIR)/kit
  CH_DIR       := $(filter %/$(GRADE_CH)/,$(SRC_DIRS))
  # chapters up to this one: the student's files see only their headers (chapter_includes)
  KIT_DIRS     := $(call dirs_upto,$(call chapter_num,$(GRADE_CH)))
  STUB_FILES   := $(notdir $(shell grep -l NN_LAB_STUB labs/$(GRADE_CH)/*.c labs/$(GRADE_CH)/*.cu 2>/dev/null))
  STUB_SRC     := $(filter $(addprefix $(CH_DIR),$(STUB_FILES)),$(C_SRC) $(CU_SRC))
  STUB_OBJ     := $(patsubst %.cu,$(BUILD)/obj/%.cu.o,$(STUB_SRC:%.c=$(BUILD)/obj/%.o))
  KIT_LIB_OBJ  := $(filter-out $(STUB_OBJ),$(filter $(KIT_DIRS:%=$(BUILD)/obj/%%),$(OBJ))) $(CUDA_EMU_OBJ)
  KIT_HEADERS  := $(wildcard $(KIT_DIRS:%=%*.h))
  TEST_OBJ     := $(patsubst %,$(GRADE_OBJ_DIR)/autograder/tests/$(GRADE_CH)/%.o,$(call graded_files,autograder/tests/$(GRADE_CH)/GRADED))
  # An instructor's hidden tests: HIDDEN_DIR/CH/GRADED and its test files (docs/instructor-guide.md)
  HIDDEN_DIR   ?= autograder/hidden
  # (objects in a folder named after HIDDEN_DIR: another folder's test of the same name is another object)
  HIDDEN_OBJ_DIR := $(GRADE_DIR)/hidden-obj/$(subst /,_,$(abspath $(HIDDEN_DIR)))
  HIDDEN_OBJ   := $(patsubst %,$(HIDDEN_OBJ_DIR)/%.o,$(call graded_files,$(HIDDEN_DIR)/$(GRADE_CH)/GRADED))
  HAVE_CHECKER := $(filter solutions/%,$(CH_DIR))
  CHECKERS     := $(if $(HAVE_CHECKER),$(GRADE_DIR)/checker $(if $(HIDDEN_OBJ),$(GRADE_DIR)/checker-hidden))
  # The student's files compile as the library's do, with the kit's headers only.
  KIT_CFLAGS   := $(filter-out -MMD -MP,$(CFLAGS)) -Wno-unused-function -Wno-unused-parameter \
                  -Wno-unused-variable -Wno-unused-but-set-variable -I$(abspath $(KIT))/include $(STB_CFLAGS)
  KIT_NVCCFLAGS := $(filter-out $(CPPFLAGS),$(NVCCFLAGS)) -I$(abspath $(KIT))/include -diag-suppress 177 \
                   $(if $(CUDA_EMU),-Xcompiler -Wno-unused-variable$(comma)-Wno-unused-parameter$(comma)-Wno-unused-function)
  # Where system headers may come from (grade_build.c checks every file a compile read).
  KIT_ROOTS    := /usr/include /usr/lib/gcc /usr/local/include \
                  $(if $(CUDA_EMU),$(abspath tools/cuda-emu),$(if $(NVCC),$(CUDA_HOME) $(realpath $(CUDA_HOME))))
  KIT_CC       := $(or $(shell command -v $(CC) 2>/dev/null),$(CC))
  # $(1): the kit's folder of test objects (obj/tests or obj/hidden)
  # (an archive: a chapter's worker takes only the harness files its tests use)
  link_line     = $(KIT_CC) $(LDFLAGS) -o @OUT@ $(abspath $(KIT))/$(1)/*.o $(abspath $(KIT))/obj/harness.a \
                  @STUDENT@ $(abspath $(KIT))/libnn.a $(GRADE_LDLIBS)
endif
$(GRADE_DIR)/checker: $(TEST_OBJ) $(HARNESS_OBJ) $(LIB)
	$(call show,LD,$@)$(CC) $(LDFLAGS) $^ $(GRADE_LDLIBS) -o $@
$(GRADE_DIR)/checker-hidden: $(HIDDEN_OBJ) $(HARNESS_OBJ) $(LIB) $(GRADE_DIR)/kit.config
	$(call show,LD,$@)$(CC) $(LDFLAGS) $(filter-out %.config,$^) $(GRADE_LDLIBS) -o $@
$(HIDDEN_OBJ_DIR)/%.o: $(HIDDEN_DIR)/$(GRADE_CH)/%.c
	@mkdir -p $(@D)
	$(call show,CC,$@)$(CC) $(call chapter_includes,$<) $(CPPFLAGS) $(TEST_CPPFLAGS) -I$(HIDDEN_DIR)/$(GRADE_CH) $(CFLAGS) $(GRADE_TEST_CFLAGS) -c $< -o $@

# The kit is made anew when anything in it changed: objects, headers, the lab's stub files,
# or which hidden tests there are (kit.config records HIDDEN_DIR and the stub files). So
# grades of many submissions may run at once from one build.
KIT_CONFIG = $(HIDDEN_DIR) $(STUB_FILES) $(notdir $(HIDDEN_OBJ)) $(NVCC)
$(GRADE_DIR)/kit.config: FORCE
	@mkdir -p $(@D)
	@echo '$(KIT_CONFIG)' | cmp -s - $@ || echo '$(KIT_CONFIG)' >$@
$(KIT)/stamp: $(KIT_LIB_OBJ) $(STUB_OBJ) $(TEST_OBJ) $(HIDDEN_OBJ) $(HARNESS_OBJ) $(KIT_HEADERS) $(GRADE_CC) Makefile \
              $(GRADE_DIR)/kit.config $(addprefix labs/$(GRADE_CH)/,$(STUB_FILES))
	$(call show,KIT,$(KIT))rm -rf $(KIT) && mkdir -p $(KIT)/include $(KIT)/lab $(KIT)/symbols $(KIT)/obj/tests \
	  $(if $(HIDDEN_OBJ),$(KIT)/obj/hidden)
	@cp $(TEST_OBJ) $(KIT)/obj/tests/ && ar rcs $(KIT)/obj/harness.a $(HARNESS_OBJ)
	@$(if $(HIDDEN_OBJ),cp $(HIDDEN_OBJ) $(KIT)/obj/hidden/)
	@cp $(KIT_HEADERS) $(KIT)/include/
	@cp $(addprefix labs/$(GRADE_CH)/,$(STUB_FILES)) $(KIT)/lab/
	@printf '%s\n' $(STUB_FILES) >$(KIT)/stubs
	@ar rcs $(KIT)/libnn.a $(KIT_LIB_OBJ)
	@$(GRADE_CC) --describe-object $(KIT)/libnn.a | grep '^define nn_' >$(KIT)/library
	@set -e; for o in $(STUB_OBJ); do f=$${o##*/}; f=$${f%.o}; f=$${f%.cu}; \
	  case $$o in *.cu.o) f=$$f.cu ;; *) f=$$f.c ;; esac; \
	  $(GRADE_CC) --describe-object $$o >$(KIT)/symbols/$$f; done
	@printf '%s\n' $(KIT_CC) $(KIT_CFLAGS) >$(KIT)/cc
	@$(if $(NVCC),printf '%s\n' $(NVCC) $(KIT_NVCCFLAGS) >$(KIT)/nvcc)
	@$(if $(CUDA_EMU),echo 'emulated on the CPU by tools/cuda-emu' >$(KIT)/gpu-emulated)
	@printf '%s\n' $(KIT_ROOTS) >$(KIT)/roots
	@printf '%s\n' $(call link_line,obj/tests) >$(KIT)/link
	@$(if $(HIDDEN_OBJ),printf '%s\n' $(call link_line,obj/hidden) >$(KIT)/link-hidden)
	@chmod -R a+rX $(KIT) # the user nobody builds workers from it (copies keep their sources' modes)
	@touch $@

.PHONY: all lib test test-gpu-emu bench fuzz tour grade grade-prepare demo measured check-weave
all: $(LIB) $(BUILD)/nn
	@$(BUILD)/nn tour

lib: $(LIB)

tour: $(BUILD)/nn
	@$(BUILD)/nn tour

# make demo CH=02: every demo of a chapter, as the chapter's text runs them.
demo: $(BUILD)/nn
	@$(BUILD)/nn run $(or $(CH),$(error make demo needs CH=NN, e.g. make demo CH=02))

test: $(LIB) $(BUILD)/nn $(TEST_BIN)
	@tools/runtests $(BUILD)

# The test programs with a GPU part (they call NEED_GPU or nn_cuda_available), under the
# emulation: none of their GPU tests may skip.
GPU_TEST_BIN := $(patsubst autograder/tests/%.c,$(BUILD)/tests/%,$(shell grep -l 'NEED_GPU\|nn_cuda_available\|nn_grade_need_gpu' $(TEST_C)))
test-gpu-emu: $(LIB) $(GPU_TEST_BIN) $(BUILD)/cuda-emu-selftest
	@$(BUILD)/cuda-emu-selftest >$(BUILD)/cuda-emu-selftest.log 2>&1 || { cat $(BUILD)/cuda-emu-selftest.log; exit 1; }
	@tail -n 1 $(BUILD)/cuda-emu-selftest.log
	@tools/runtests $(BUILD) --gpu $(GPU_TEST_BIN)

# The emulation's own rules (tools/cuda-emu/selftest.cu): shuffles, barriers, the errors a GPU gives.
$(BUILD)/cuda-emu-selftest: tools/cuda-emu/selftest.cu $(CUDA_EMU_OBJ)
	$(call show,NVCC,$<)$(NVCC) $(NVCCFLAGS) $< $(CUDA_EMU_OBJ) $(LDFLAGS) -lstdc++ -o $@

bench: $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done

# The chapters' measured blocks (tools/measured): what a demo or benchmark printed, quoted.
measured: $(BUILD)/nn $(BENCH_BIN)
	@tools/measured $(or $(CH),$(error make measured needs CH=NN, e.g. make measured CH=02))

check-weave: $(BUILD)/nn
	@tools/weave --check && tools/measured --check

fuzz: $(FUZZ_SRC:autograder/fuzz/%.c=build/fuzz/%)
	@tools/runfuzz $(FUZZ_SECONDS) $^

# What a grade needs, built ahead (Gradescope's setup.sh): the library, the kit, the checkers.
grade-prepare: $(GRADE_CC) $(KIT)/stamp $(CHECKERS)

grade: $(GRADE_CC) $(KIT)/stamp $(CHECKERS)
	@$(GRADE_CC) --chapter $(GRADE_CH) --kit $(abspath $(KIT)) --submission $(GRADE_SUBMISSION) \
	  --results $(RESULTS) $(if $(CHECKERS),--checker $(abspath $(GRADE_DIR)/checker)) \
	  $(if $(HIDDEN_OBJ),--hidden-dir $(HIDDEN_DIR) $(if $(CHECKERS),--hidden-checker $(abspath $(GRADE_DIR)/checker-hidden))) \
	  $(GRADE_FLAGS)

-include $(OBJ:.o=.d) $(NN_SRC:%.c=$(BUILD)/obj/%.d) $(GUARD_OBJ:.o=.d) $(TEST_SUPPORT_OBJ:.o=.d) \
  $(HARNESS_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(HIDDEN_OBJ:.o=.d)
FORCE:
endif

.PHONY: data clean labs check-labs handout gradescope hint
data:
	@tools/fetch-data

labs:
	@tools/mklabs

# A lab region's second, more concrete hint: make hint CH=03 REGION=maxpool_backward_plane
# (without REGION: the regions that have one).
hint:
	@tools/hint $(or $(CH),$(error make hint needs CH=NN, e.g. make hint CH=03 REGION=group_forward)) $(REGION)

# labs/ regenerates to what is committed, every graded test passes on solutions/
# and fails on the stubs, and every bug planted in a lab region (MUTANTS) fails one
# (tools/check-labs, tools/mutants).
check-labs:
	@tools/check-labs

# The student release (no solutions/, no hidden tests) in build/handout/ and .tar.gz.
handout:
	@tools/mklabs --check && tools/handout $(HANDOUT)

# The Gradescope autograder of chapter CH: build/gradescope-NN-topic.zip.
gradescope:
	@$(if $(CH),tools/mklabs --check && tools/gradescope $(CH),echo "make gradescope needs a chapter: make gradescope CH=00"; exit 2)

clean:
	rm -rf build
