# The two commands of the README. Everything else lives in tools/.
.PHONY: demo test bench

demo:  ## install portreg into .venv and run the main job on examples/rerp (in a temp copy)
	bash tools/demo.sh

test:  ## install test dependencies (Python packages, etcd, chromium) and run every check and test
	bash tools/test.sh

bench:  ## run the benchmarks in bench/ and print their tables
	bash tools/bench.sh
