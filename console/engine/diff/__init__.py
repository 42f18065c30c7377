"""Diff: normalisation, ignoreDifferences, predicted live, secret masking and drift attribution,
pure functions over unstructured objects (gitops-engine pkg/diff)."""
