"""tools/bench_tiles.py: tiled against whole speed and the CLI's peak RSS, on tiny sizes."""

import json


def test_speed_tiny_checks_equal_outputs(tmp_path, capsys):
    from tools.bench_tiles import main

    out = tmp_path / "speed.json"
    assert main(["speed", "--size", "97x61", "--reps", "1", "--budget", "1", "--json", str(out)]) == 0
    res = json.loads(out.read_text())["result"]
    assert res["equal"] and res["bands"] > 1 and res["whole_ms"] > 0 and res["tiled_ms"] > 0
    assert "97x61: whole" in capsys.readouterr().out


def test_rss_tiny_runs_the_cli(tmp_path, capsys):
    from tools.bench_tiles import main

    assert main(["rss", "--size", "97x61", "--keep", str(tmp_path), "--set", "runtime.max_memory_mb=1"]) == 0
    assert "peak RSS" in capsys.readouterr().out and (tmp_path / "out-97x61.png").is_file()


def test_user_errors_are_one_line(capsys):
    from tools.bench_tiles import main

    assert main(["speed", "--size", "big"]) == 2
    assert main(["speed", "--size", "97x61", "--budget", "100000"]) == 2  # fits whole: nothing to compare
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("tools/bench_tiles.py: ") for e in err)
