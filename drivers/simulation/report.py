"""The simulator's report: JSON, an HTML page with PNG charts next to it, a printed table."""

from __future__ import annotations

import html
import json
from pathlib import Path

from drivers.simulation.metrics import TABLE, fmt


def table_text(results: dict) -> str:
    """Rows are metrics; one column per mall × policy (side by side on the same seed)."""
    columns = [(mall, policy) for mall, runs in results.items() for policy in runs]
    heads = [f"{policy} @ {mall[:18]}" if len(results) > 1 else policy for mall, policy in columns]
    width = max(len(label) for _, label, _ in TABLE) + 2
    col = max(10, *(len(h) + 2 for h in heads))
    lines = ["".ljust(width) + "".join(h.rjust(col) for h in heads)]
    for key, label, pattern in TABLE:
        cells = [fmt(results[m][p]["metrics"].get(key), pattern) for m, p in columns]
        lines.append(label.ljust(width) + "".join(c.rjust(col) for c in cells))
    return "\n".join(lines)


def write_report(*, out: Path, results: dict, meta: dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": meta,
        "results": {
            mall: {
                policy: {k: v for k, v in run.items() if k != "records"}
                for policy, run in runs.items()
            }
            for mall, runs in results.items()
        },
    }
    (out / "report.json").write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    charts = _charts(out, results)
    page = out / "report.html"
    page.write_text(_html(results, meta, charts))
    return page


def _charts(out: Path, results: dict) -> dict[str, list[str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: dict[str, list[str]] = {}
    for index, (mall, runs) in enumerate(results.items()):
        names = []
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
        first = next(iter(runs.values()))
        hours = [row["hour"] for row in first["hourly"]]
        top.bar(hours, [row["placed"] for row in first["hourly"]], color="#c8d3e6", label="placed")
        for policy, run in runs.items():
            rows = {row["hour"]: row for row in run["hourly"]}
            top.plot(
                hours,
                [rows.get(h, {}).get("delivered", 0) for h in hours],
                marker="o",
                label=f"delivered ({policy})",
            )
            bottom.plot(
                hours,
                [
                    100 * rows[h]["late"] / rows[h]["delivered"]
                    if h in rows and rows[h]["delivered"]
                    else 0
                    for h in hours
                ],
                marker="o",
                label=policy,
            )
        top.set_ylabel("orders (by hour placed)")
        top.set_title(f"{mall}: orders over the day")
        top.legend(fontsize=8)
        bottom.set_ylabel("% delivered late")
        bottom.set_xlabel("hour placed (mall time)")
        bottom.set_title("Lateness over the day")
        bottom.legend(fontsize=8)
        fig.tight_layout()
        name = f"day-{index + 1}.png"
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        names.append(name)

        bars = [
            ("on_time_rate", "on-time rate (%)", 100),
            ("orders_per_route", "orders per route", 1),
            ("km_per_order", "km per order", 1),
            ("cost_per_order_cents", "cost per order ($)", 0.01),
            ("driver_utilisation", "driver utilisation (%)", 100),
            ("minutes_to_door_median", "order→door median (min)", 1),
        ]
        fig, axes = plt.subplots(2, 3, figsize=(10, 5.5))
        policies = list(runs)
        for ax, (key, label, scale) in zip(axes.flat, bars, strict=True):
            values = [(runs[p]["metrics"].get(key) or 0) * scale for p in policies]
            ax.bar(policies, values, color=["#4c72b0", "#dd8452", "#55a868"][: len(policies)])
            ax.set_title(label, fontsize=10)
            ax.set_ylim(0, max(values, default=0) * 1.18 or 1)
            for x, v in enumerate(values):
                ax.annotate(
                    f"{v:.1f}" if v < 100 else f"{v:.0f}",
                    (x, v),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
        fig.suptitle(f"{mall}: policies side by side")
        fig.tight_layout()
        name = f"policies-{index + 1}.png"
        fig.savefig(out / name, dpi=90)
        plt.close(fig)
        names.append(name)
        charts[mall] = names
    return charts


def _html(results: dict, meta: dict, charts: dict) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Mallrun day simulation</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;"
        "padding:0 1em}table{border-collapse:collapse}td,th{padding:.3em .8em;"
        "border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child"
        "{text-align:left}img{max-width:100%}</style></head><body>",
        "<h1>Mallrun day simulation</h1>",
        f"<p>Seed {meta['seed']}, {meta['orders']} checkouts, {meta['drivers']} drivers, "
        f"day {e(meta['day'])}, database: {e(meta['database'])}.</p>",
    ]
    for mall, runs in results.items():
        parts.append(f"<h2>{e(mall)}</h2><table><tr><th></th>")
        parts += [f"<th>{e(p)}</th>" for p in runs]
        parts.append("</tr>")
        for key, label, pattern in TABLE:
            parts.append(f"<tr><td>{e(label)}</td>")
            parts += [
                f"<td>{e(fmt(run['metrics'].get(key), pattern))}</td>" for run in runs.values()
            ]
            parts.append("</tr>")
        parts.append("</table>")
        for name in charts.get(mall, []):
            parts.append(f"<p><img src='{e(name)}' alt='{e(name)}'></p>")
    parts.append("</body></html>")
    return "\n".join(parts)
