"""Real server, real browser: shared by the browser-planner tests and its benchmark.

``running_planner()`` starts ``surgical-planner serve`` on a free loopback port and always stops it;
``chromium_browser()`` drives Debian's chromium through Playwright; ``view_pixels()`` reads what a view shows;
``arrow_grip()`` finds one of Slicer's interaction-handle arrows in it and ``drag_in_view()`` drags it.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from playwright.sync_api import BrowserContext, Locator, Page, expect, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1400, "height": 850}
THREED_VIEW_IMAGE = "div:has(> [data-testid='view-3d']) img.image-display-area"
SERVER_START_TIMEOUT_S = 60.0
SESSION_LOAD_TIMEOUT_MS = 120_000
ARROW_REACH_PX = 15  # an arrow's direction is read from its pixels this close to the grip


@dataclass
class Planner:
    url: str
    process: subprocess.Popen
    started_at: float  # time.monotonic() just before the serve process was started


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"surgical-planner serve exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"surgical-planner serve did not listen on port {port} within {timeout_s:.0f} s")


@contextmanager
def running_planner(*extra_args: str) -> Iterator[Planner]:
    """``surgical-planner serve`` on 127.0.0.1:<free port>; stopped (with its sessions) on exit."""
    port = free_loopback_port()
    command = [sys.executable, "-m", "SurgicalAIPlannerLib", "serve", "--host", "127.0.0.1", "--port", str(port), *extra_args]
    started_at = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO_ROOT)
    try:
        _wait_listening(port, process, SERVER_START_TIMEOUT_S)
        yield Planner(f"http://127.0.0.1:{port}", process, started_at)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def chromium_browser() -> Iterator[BrowserContext]:
    """Debian's chromium, headless, with a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="planner-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=VIEWPORT)
        try:
            yield context
        finally:
            context.close()


def open_page(browser: BrowserContext, url: str) -> Page:
    """A new page on the planner at ``url``, once its session has opened a case."""
    page = browser.new_page()
    page.goto(url + "/", timeout=SESSION_LOAD_TIMEOUT_MS)
    expect(page.get_by_test_id("case-name")).not_to_have_text("", timeout=60_000)
    return page


def image_pixels(png: bytes) -> np.ndarray:
    """RGB array (rows, columns, 3) of a PNG screenshot."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def view_pixels(view: Locator, path: Path | None = None) -> np.ndarray:
    """What a view shows in the page (a screenshot of its element), optionally saved to ``path``."""
    png = view.screenshot()
    if path is not None:
        path.write_bytes(png)
    return image_pixels(png)


def bone_fraction(rgb: np.ndarray) -> float:
    """Share of pixels in bone colour (the page draws bones in Slicer's bone yellow, shaded; the 3D
    background is neutral grey): clearly more red than blue, and not dark."""
    red, green, blue = (rgb[..., channel].astype(int) for channel in range(3))
    bone = (red > 90) & (red - blue > 40) & (green > blue)
    return float(bone.mean())


def implant_fraction(rgb: np.ndarray) -> float:
    """Share of pixels in the implants' blue (SurgicalAIPlannerLib.web.app.IMPLANT_RGB), also when seen through
    the see-through bones: far more blue than red. Neither bone nor the grey background is."""
    red, blue = rgb[..., 0].astype(int), rgb[..., 2].astype(int)
    return float(((blue - red > 80) & (blue > 120)).mean())


def wait_for_view(page: Page, locator: str, accept, timeout_s: float = 60.0) -> np.ndarray:
    """Poll a view's pixels until ``accept(pixels)`` holds; returns the pixels that passed."""
    deadline = time.monotonic() + timeout_s
    view = page.locator(locator)
    while True:
        if view.count() and view.first.is_visible():
            pixels = view_pixels(view.first)
            if accept(pixels):
                return pixels
        if time.monotonic() > deadline:
            raise AssertionError(f"{locator} did not show the expected pixels within {timeout_s:.0f} s")
        time.sleep(0.25)


def screenshot_dir() -> Path:
    """Where the browser tests save their screenshots: a temporary folder, so a test run leaves the checkout clean.

    Regenerate the pictures in the docs with ``SURGICAL_PLANNER_SCREENSHOTS=docs/images make test``.
    """
    folder = Path(os.environ.get("SURGICAL_PLANNER_SCREENSHOTS") or Path(tempfile.gettempdir()) / "surgical-planner-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def handle_mask(rgb: np.ndarray, colour: str) -> np.ndarray:
    """Pixels in one of Slicer's handle colours: green (second axis; no anatomy or implant is green) or blue
    (third axis; a blue with as much red as green, unlike the implants' sky blue)."""
    red, green, blue = (rgb[..., channel].astype(int) for channel in range(3))
    if colour == "green":
        return (green - red > 60) & (green - blue > 60)
    return (blue - red > 70) & (blue - green > 70) & (np.abs(red - green) < 30)


def handle_patches(rgb: np.ndarray, colour: str, min_pixels: int = 20) -> list[np.ndarray]:
    """(x, y) pixels of each patch of a handle colour big enough to grab."""
    patches, count = ndimage.label(handle_mask(rgb, colour))
    candidates = [_patch_points(patches, index) for index in range(1, count + 1)]
    return [points for points in candidates if len(points) >= min_pixels]


def arrow_grip(rgb: np.ndarray, colour: str) -> tuple[np.ndarray, np.ndarray]:
    """A translation arrow (the thickest patch of its colour; rotation rings are thin lines): the point deepest
    inside it (on the arrow's head or shaft, even where a ring line touches the patch) in (x, y) pixels, and the
    arrow's direction there, pointing away from the implants' centre."""
    points = max(handle_patches(rgb, colour), key=lambda patch: len(patch) / (_length(patch) + 1.0))
    grip = _deepest(points)
    near = points[np.linalg.norm(points - grip, axis=1) < ARROW_REACH_PX]
    direction = _long_axis(near)
    red, blue = rgb[..., 0].astype(int), rgb[..., 2].astype(int)
    implant_ys, implant_xs = np.nonzero((blue - red > 80) & (blue > 120))
    if np.dot(grip - [implant_xs.mean(), implant_ys.mean()], direction) < 0:
        direction = -direction
    return grip, direction


def _deepest(points: np.ndarray) -> np.ndarray:
    """The pixel of a patch farthest from its outline."""
    corner = points.min(axis=0).astype(int) - 1
    mask = np.zeros(tuple((points.max(axis=0).astype(int) - corner + 2)[::-1]), bool)
    mask[points[:, 1].astype(int) - corner[1], points[:, 0].astype(int) - corner[0]] = True
    depth = ndimage.distance_transform_edt(mask)
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return np.array([x + corner[0], y + corner[1]], float)


def _patch_points(patches: np.ndarray, index: int) -> np.ndarray:
    ys, xs = np.nonzero(patches == index)
    return np.stack([xs, ys], axis=1).astype(float)


def _length(points: np.ndarray) -> float:
    return float(np.ptp(points @ _long_axis(points)))


def _long_axis(points: np.ndarray) -> np.ndarray:
    return np.linalg.svd(points - points.mean(axis=0), full_matrices=False)[2][0]


def page_point(view: Locator, view_px: np.ndarray) -> tuple[float, float]:
    """Page coordinates of a pixel (x, y) of the view's image (the image may be scaled in the page)."""
    box = view.bounding_box()
    rows, columns = view_pixels(view).shape[:2]
    return box["x"] + view_px[0] * box["width"] / columns, box["y"] + view_px[1] * box["height"] / rows


def press_on(page: Page, view: Locator, view_px: np.ndarray) -> tuple[float, float]:
    """Hover, then press the left button on a pixel of the view; returns the page point pressed."""
    x, y = page_point(view, view_px)
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y, steps=3)  # hovering first lets Slicer's widget pick the handle under the pointer
    page.wait_for_timeout(500)
    page.mouse.down()
    return x, y


def drag_in_view(page: Page, view, start_px: np.ndarray, shift_px: np.ndarray,
                 while_pressed: Callable[[], None] = lambda: None) -> None:
    """Press on ``start_px`` of the view's image (its own pixels), move by ``shift_px``, release — as a hand would.
    ``while_pressed`` runs after the moves, before the release."""
    x, y = press_on(page, view, start_px)
    for step in np.linspace(0.1, 1.0, 10):  # at a hand's pace: the view forwards pointer moves throttled
        page.mouse.move(x + step * shift_px[0], y + step * shift_px[1])
        page.wait_for_timeout(60)
    page.wait_for_timeout(300)
    while_pressed()
    page.mouse.up()
