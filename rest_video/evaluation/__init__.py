"""Quality evaluation on content/style pairs: baselines, the evaluation runner, contact sheets."""
