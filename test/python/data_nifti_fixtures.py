"""NIfTI fixtures written by an independent path (nibabel), and a checker for files we write.

  make DIR   writes fixtures into DIR plus DIR/expected.json: per file its dims, affine
             (nibabel's), dtype, and DIR/<file>.values.npy (float64, our voxel order:
             first axis fastest)
  check FILE prints JSON {shape, affine, dtype, sform_code, qform_affine} and writes
             FILE.values.npy the same way
"""
import json
import sys

import numpy as np
import nibabel as nib


def rot(ax, ay, az):
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def affine_of(r, zooms, offset):
    a = np.eye(4)
    a[:3, :3] = r @ np.diag(zooms)
    a[:3, 3] = offset
    return a


def flat(arr):
    return np.asarray(arr, dtype=np.float64).ravel(order="F")


def make(d):
    rng = np.random.default_rng(7)
    expected = {}

    def save(name, img, scaled=None):
        nib.save(img, f"{d}/{name}")
        back = nib.load(f"{d}/{name}")
        values = back.get_fdata(dtype=np.float64)
        np.save(f"{d}/{name}.values.npy", flat(values))
        expected[name] = {
            "dims": list(back.shape),
            "affine": back.affine.tolist(),
            "dtype": str(back.get_data_dtype().newbyteorder("=")),
            "zooms": [float(z) for z in back.header.get_zooms()[:3]],
        }

    shape = (7, 5, 4)
    # uint8 with a rotated sform
    a = affine_of(rot(0.1, -0.2, 0.3), [0.8, 1.2, 2.5], [-10, 20, 5])
    img = nib.Nifti1Image(rng.integers(0, 255, shape).astype(np.uint8), a)
    img.set_sform(a, code=1)
    img.set_qform(None, code=0)
    save("u8_sform.nii.gz", img)

    # int16, qform only, reflection (qfac -1), scl_slope/inter
    a = affine_of(rot(0.3, 0.1, -0.4) @ np.diag([1, 1, -1]), [1.5, 0.7, 3.0], [4, -8, 12])
    img = nib.Nifti1Image(rng.integers(-300, 300, shape).astype(np.int16), None)
    img.set_qform(a, code=1)
    img.set_sform(None, code=0)
    img.header.set_slope_inter(2.5, -10.0)
    save("i16_qform_scaled.nii", img)

    # big-endian int32
    hdr = nib.Nifti1Header(endianness=">")
    a = affine_of(np.eye(3), [2, 2, 2], [1, 2, 3])
    img = nib.Nifti1Image(rng.integers(-100000, 100000, shape).astype(np.int32), a, header=hdr)
    img.set_data_dtype(np.int32)
    assert img.header.endianness == ">"
    save("i32_big_endian.nii", img)

    # float32 4D (two channels) gzipped
    img = nib.Nifti1Image(rng.normal(size=shape + (2,)).astype(np.float32), affine_of(np.eye(3), [1, 1, 1], [0, 0, 0]))
    save("f32_4d.nii.gz", img)

    # float64
    img = nib.Nifti1Image(rng.normal(size=shape), affine_of(rot(0, 0, 0.5), [1, 2, 3], [0, 0, 0]))
    save("f64.nii", img)

    for dt in (np.int8, np.uint16, np.uint32):
        info = np.iinfo(dt)
        vals = rng.integers(max(info.min, -1000), min(info.max, 70000), shape).astype(dt)
        img = nib.Nifti1Image(vals, np.eye(4))
        img.header.set_data_dtype(dt)
        save(f"{np.dtype(dt).name}.nii.gz", img)

    # header extension: data starts past 352
    img = nib.Nifti1Image(rng.integers(0, 9, shape).astype(np.uint8), np.eye(4))
    img.header.extensions.append(nib.nifti1.Nifti1Extension("comment", b"a header extension " * 9))
    save("with_extension.nii.gz", img)

    # NIfTI-2, little and big endian
    a = affine_of(rot(0.2, 0.2, 0.2), [0.5, 0.6, 0.7], [3, 3, 3])
    save("nifti2.nii.gz", nib.Nifti2Image(rng.normal(size=shape).astype(np.float32), a))
    hdr2 = nib.Nifti2Header(endianness=">")
    img = nib.Nifti2Image(rng.integers(-5, 5, shape).astype(np.int16), a, header=hdr2)
    img.set_data_dtype(np.int16)
    assert img.header.endianness == ">"
    save("nifti2_big_endian.nii", img)

    json.dump(expected, open(f"{d}/expected.json", "w"))
    print("ok")


def check(path):
    img = nib.load(path)
    np.save(f"{path}.values.npy", flat(img.get_fdata(dtype=np.float64)))
    print(
        json.dumps(
            {
                "shape": list(img.shape),
                "affine": img.affine.tolist(),
                "dtype": str(img.get_data_dtype()),
                "sform_code": int(img.header["sform_code"]),
                "qform_code": int(img.header["qform_code"]),
                "qform_affine": img.get_qform().tolist(),
            }
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2])
