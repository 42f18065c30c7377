"""trueup: a GitOps reconcile engine with the Argo CD model (engine), the clusters it talks to (cluster),\nand its three faces: the CLI (cli), the Textual console (tui) and the demo fleet (demo)."""
