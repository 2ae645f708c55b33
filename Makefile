.PHONY: train demo test bench
train:
	bash scripts/train.sh
demo:
	python3 -m audiogym.cli demo
test:
	bash scripts/test.sh
bench:
	python3 benchmarks/envs.py
