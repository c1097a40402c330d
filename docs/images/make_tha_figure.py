"""Renders docs/images/tha_cup_angles.png (run: .venv/bin/python docs/images/make_tha_figure.py).

The cup axis drawn is the one the planner computes for a left cup at 40°/15° radiographic, so the
figure shows the code's definitions, not a hand-drawn approximation.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from SurgicalAIPlannerLib.planning.cup_angles import CupOrientation, convert, cup_axis  # noqa: E402
from SurgicalAIPlannerLib.planning.frames import PelvicFrame  # noqa: E402

OUTPUT = Path(__file__).with_name("tha_cup_angles.png")


def arrow(ax, start, vector, color, label):
    ax.annotate("", xy=start + vector, xytext=start, arrowprops={"arrowstyle": "->", "color": color, "lw": 2})
    ax.text(*(start + vector * 1.12), label, color=color, ha="center", va="center", fontsize=9)


def arc(ax, centre, radius, start_deg, end_deg, label):
    angles = np.radians(np.linspace(start_deg, end_deg, 40))
    ax.plot(centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles), color="k", lw=1)
    middle = np.radians((start_deg + end_deg) / 2)
    ax.text(centre[0] + 1.3 * radius * np.cos(middle), centre[1] + 1.3 * radius * np.sin(middle), label, fontsize=9,
            ha="center", va="center")


def main() -> None:
    frame = PelvicFrame.identity()  # APP frame = RAS axes for a neutral pelvis
    orientation = CupOrientation(40.0, 15.0, "radiographic")
    axis = cup_axis(orientation, frame, "left")  # RAS: -x lateral (left), +y anterior, -z inferior
    operative = convert(orientation, "operative", frame, "left")
    anatomic = convert(orientation, "anatomic", frame, "left")
    figure, (coronal, axial) = plt.subplots(1, 2, figsize=(10, 4.8))

    # Coronal (APP) view, as on an AP radiograph: patient's left on the image right, so draw lateral = +u.
    lateral, inferior = -axis[0], -axis[2]
    centre = np.array([0.0, 0.0])
    coronal.add_patch(plt.Circle(centre, 1.0, fill=False, ls="--", color="0.6"))
    arrow(coronal, centre, np.array([0.0, -1.6]), "0.3", "longitudinal\n(inferior)")
    arrow(coronal, centre, 1.6 * np.array([lateral, -inferior]) / np.hypot(lateral, inferior), "tab:red",
          "cup axis\nprojected")
    arc(coronal, centre, 0.55, -90, -90 + orientation.inclination, f"RI {orientation.inclination:.0f}°")
    coronal.set_title("Coronal plane (parallel to the APP)\nradiographic inclination")
    coronal.set_xlabel("lateral (patient's left) →")
    coronal.set_ylabel("superior ↑")

    # Axial view from above: anteversion = tilt of the axis out of the coronal plane.
    axial.axhline(0.0, color="0.6", ls="--")
    axial.text(-1.8, 0.05, "coronal plane (APP)", fontsize=8, color="0.4", ha="left", va="bottom")
    arrow(axial, centre, 1.6 * np.array([np.hypot(lateral, inferior), axis[1]]), "tab:red", "cup axis")
    arc(axial, centre, 1.0, 0.0, orientation.anteversion, f"RA {orientation.anteversion:.0f}°")
    axial.set_title("Plane through the cup axis, perpendicular to the APP\nradiographic anteversion")
    axial.set_xlabel("axis projected on the coronal plane →")
    axial.set_ylabel("anterior ↑")
    for ax in (coronal, axial):
        ax.set_aspect("equal")
        ax.set_xlim(-1.9, 1.9)
        ax.set_ylim(-1.9, 1.9)
    figure.suptitle(f"Left cup at {orientation.inclination:.0f}°/{orientation.anteversion:.0f}° radiographic "
                    f"= {operative.inclination:.1f}°/{operative.anteversion:.1f}° operative "
                    f"= {anatomic.inclination:.1f}°/{anatomic.anteversion:.1f}° anatomic (Murray 1993)", fontsize=10)
    figure.tight_layout()
    figure.savefig(OUTPUT, dpi=110)


if __name__ == "__main__":
    main()
