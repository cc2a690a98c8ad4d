// The volume viewer in the data panel, driven as a user drives it: a NIfTI volume written by
// nibabel (test/python/volume_viewer_fixture.py: 24×20×12 voxels of 1.0 × 1.5 × 3.0 mm) opened
// through the file chooser, shown in three orthogonal views as large as their planes are in mm,
// each showing the voxel under its cross-hair; the wheel over one view moves the cross-hair in
// the other two; a click in one moves the cursor there.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasPython, PYTHON, ROOT } from './data-fixtures.ts';
import { boxOf, centre } from './editor-helpers.ts';
import {
  byId,
  chooserBrowser,
  freshTraining,
  openFolder,
  openTrain,
  panel,
} from './train-helpers.ts';

const FILES = join(ROOT, 'test-results', 'e2e-volume');

/** The fixture's intensity at voxel (i, j, k), as its writer defines it. */
const value = (i: number, j: number, k: number) => (7 * i + 13 * j + 29 * k) % 64;
type Plane = 'axial' | 'coronal' | 'sagittal';

const frame = (page: Page, plane: Plane) =>
  panel(page).locator(`[data-testid="volume-frame"][data-plane="${plane}"]`);
const cross = async (page: Page, plane: Plane) =>
  ((await frame(page, plane).getAttribute('data-cross')) ?? '').split(',').map(Number);
const cursor = async (page: Page) =>
  (
    /voxel \((\d+), (\d+), (\d+)\)/.exec((await byId(page, 'volume-cursor').textContent()) ?? '') ??
    []
  )
    .slice(1)
    .map(Number);

/** The grey of the canvas pixel (x, y) (from the top left), and the canvas's size in pixels. */
function pixel(canvas: Locator, x: number, y: number) {
  return canvas.evaluate(
    (c: HTMLCanvasElement, [x, y]) => ({
      size: [c.width, c.height],
      rgb: [...c.getContext('2d')!.getImageData(x, y, 1, 1).data.slice(0, 3)],
    }),
    [x, y],
  );
}

describe.skipIf(!hasPython && process.env.CI !== 'true')('the volume viewer', () => {
  const browser = chooserBrowser();
  beforeAll(() => mkdirSync(FILES, { recursive: true }));

  it('shows a NIfTI volume in three views at its voxel spacing, with a linked cross-hair', async () => {
    const { page, baseUrl } = browser.session;
    const dir = join(FILES, 'volume');
    rmSync(dir, { recursive: true, force: true });
    execFileSync(PYTHON, [join(ROOT, 'test/python/volume_viewer_fixture.py'), 'make', dir]);
    const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
      dims: [number, number, number];
      zooms: [number, number, number];
    };
    rmSync(join(dir, 'expected.json'));
    const [nx, ny, nz] = expected.dims;
    const [sx, sy, sz] = expected.zooms;

    await freshTraining(page, baseUrl);
    await openTrain(page);
    await openFolder(page, dir);
    const view = panel(page).locator('tr[data-case="vol01"] [data-testid="case-view"]');
    await expect.poll(() => view.count(), { timeout: 60_000 }).toBe(1);
    await view.click();
    await expect.poll(() => frame(page, 'sagittal').count(), { timeout: 60_000 }).toBe(1);

    // Each view as wide and tall as its plane in mm, all at one scale: the largest that fits
    // every plane in 150×150 px.
    const mm: Record<Plane, [number, number]> = {
      axial: [nx * sx, ny * sy],
      coronal: [nx * sx, nz * sz],
      sagittal: [ny * sy, nz * sz],
    };
    const scale = Math.min(...Object.values(mm).map(([w, h]) => Math.min(150 / w, 150 / h)));
    for (const [plane, [w, h]] of Object.entries(mm) as [Plane, [number, number]][]) {
      const b = await boxOf(frame(page, plane));
      expect(b.width, plane).toBeCloseTo(w * scale, 0);
      expect(b.height, plane).toBeCloseTo(h * scale, 0);
    }

    // The cursor starts at the centre voxel; each view's pixel under the cross-hair shows it.
    const shows = async (at: number[]) => {
      const [i, j, k] = at;
      const grey = Math.round((value(i, j, k) / 63) * 255);
      const under: Record<Plane, [number, number]> = {
        axial: [i, ny - 1 - j],
        coronal: [i, nz - 1 - k],
        sagittal: [j, nz - 1 - k],
      };
      for (const [plane, [x, y]] of Object.entries(under) as [Plane, [number, number]][]) {
        const p = await pixel(frame(page, plane).locator('canvas'), x, y);
        expect(p.size, plane).toEqual(
          { axial: [nx, ny], coronal: [nx, nz], sagittal: [ny, nz] }[plane],
        );
        for (const c of p.rgb)
          expect(Math.abs(c - grey), `${plane} at ${at}`).toBeLessThanOrEqual(1);
      }
    };
    await expect.poll(() => cursor(page)).toEqual([nx >> 1, ny >> 1, nz >> 1]);
    await shows([nx >> 1, ny >> 1, nz >> 1]);

    // Two notches of the wheel over the axial view: two slices up in k. The cross-hair moves up
    // by two voxels' height in the coronal and sagittal views, not across; the axial one stays.
    const before = {
      axial: await cross(page, 'axial'),
      coronal: await cross(page, 'coronal'),
      sagittal: await cross(page, 'sagittal'),
    };
    const voxel = (nz * sz * scale) / nz;
    const at = centre(await boxOf(frame(page, 'axial')));
    await page.mouse.move(at.x, at.y);
    await page.mouse.wheel(0, 100);
    await expect.poll(() => cursor(page)).toEqual([nx >> 1, ny >> 1, (nz >> 1) + 1]);
    await page.mouse.wheel(0, 100);
    await expect.poll(() => cursor(page)).toEqual([nx >> 1, ny >> 1, (nz >> 1) + 2]);
    expect(await cross(page, 'axial')).toEqual(before.axial);
    for (const plane of ['coronal', 'sagittal'] as const) {
      const [x, y] = await cross(page, plane);
      expect(x, plane).toBe(before[plane][0]);
      expect(y, plane).toBeCloseTo(before[plane][1] - 2 * voxel, 1);
    }
    await shows([nx >> 1, ny >> 1, (nz >> 1) + 2]);

    // A click in the sagittal view sets j and k there; i stays.
    const s = await boxOf(frame(page, 'sagittal'));
    await page.mouse.click(s.x + s.width * ((3 + 0.5) / ny), s.y + s.height * (1 - (9 + 0.5) / nz));
    await expect.poll(() => cursor(page)).toEqual([nx >> 1, 3, 9]);
    await shows([nx >> 1, 3, 9]);

    // The legend names the folder's classes.
    expect(await byId(page, 'volume-legend').textContent()).toMatch(/spleen[\s\S]*kidney/);
    // It opened in sight (the drawer scrolled to it).
    const views = await boxOf(panel(page).locator('mam-volume-view'));
    expect(views.y + views.height).toBeLessThanOrEqual(page.viewportSize()!.height);
    await browser.session.screenshot('volume-viewer');
  });
});
