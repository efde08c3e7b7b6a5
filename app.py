"""The arena's entry: `python app.py [--config configs/demo.yaml] [--host 127.0.0.1] [--port 7860]`
(the same as `persona-lab arena`)."""

import sys

from persona_lab.cli import main

if __name__ == "__main__":
    sys.exit(main(["arena", *sys.argv[1:]]))
