"""Writes a tiny Synapse preprocessed layout the way the reference pipeline stores it:
train slices as .npz (numpy.savez, image float32 + label float32) and test volumes as
.npy.h5 (h5py, datasets 'image' [D,H,W] and 'label'), plus lists/lists_Synapse/*.txt.
Values follow closed formulas the TypeScript test recomputes. usage: python data_synapse_fixtures.py DIR"""
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
H, W, D = 5, 7, 3
os.makedirs(f'{out}/train_npz', exist_ok=True)
os.makedirs(f'{out}/test_vol_h5', exist_ok=True)
os.makedirs(f'{out}/lists/lists_Synapse', exist_ok=True)
r, c = np.meshgrid(np.arange(H), np.arange(W), indexing='ij')
names = []
for k in range(2):
    name = f'case0005_slice{k:03d}'
    names.append(name)
    image = ((r * W + c) / 100.0 + k).astype(np.float32)
    label = ((r + 2 * c + k) % 9).astype(np.float32)
    np.savez(f'{out}/train_npz/{name}.npz', image=image, label=label)
with open(f'{out}/lists/lists_Synapse/train.txt', 'w') as f:
    f.write('\n'.join(names) + '\n')
z, r3, c3 = np.meshgrid(np.arange(D), np.arange(H), np.arange(W), indexing='ij')
with h5py.File(f'{out}/test_vol_h5/case0008.npy.h5', 'w') as f:
    f.create_dataset('image', data=(z * 1000 + r3 * W + c3).astype(np.float32))
    f.create_dataset('label', data=((z + r3 + c3) % 9).astype(np.float32))
with open(f'{out}/lists/lists_Synapse/test_vol.txt', 'w') as f:
    f.write('case0008\n')
