.PHONY: train demo test lint bench
train:
	bash scripts/train.sh
demo:
	python3 -m audiogym.cli demo
test:
	bash scripts/test.sh
lint:
	python3 -m ruff check .
	python3 -m ruff format --check .
	python3 -m mypy audiogym
bench:
	python3 benchmarks/envs.py
