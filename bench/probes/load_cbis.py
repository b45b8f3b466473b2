# Probe 1/5: reads a synthetic CBIS-DDSM set (mhr synth mammo) with pydicom and the calc description CSVs
# into /tmp/mhr-probe/data.npz (official train/test split, image-level label = any malignant abnormality).
import pathlib; pathlib.Path('/tmp/mhr-probe').mkdir(exist_ok=True)
import csv, numpy as np, pydicom, os, sys
root = sys.argv[1] if len(sys.argv) > 1 else '/tmp/mhr-probe/synth'
def load(split):
    rows = list(csv.DictReader(open(f'{root}/calc_case_description_{split}_set.csv')))
    imgs = {}
    for r in rows:
        key = r['image file path']
        mal = r['pathology'].startswith('MALIGNANT')
        pid = r['patient_id']
        imgs[key] = (max(imgs.get(key, (0, pid))[0], mal), pid)
    X, Y, P = [], [], []
    for key, (mal, pid) in sorted(imgs.items()):
        d = key.split('/')[0]
        # on-disk folder quirk: find the dcm under the folder
        for dp, _, fs in os.walk(f'{root}/{d}'):
            for f in fs:
                if f.endswith('.dcm'): path = os.path.join(dp, f)
        ds = pydicom.dcmread(path)
        a = ds.pixel_array.astype(np.float32) / 65535.0
        if getattr(ds, 'PhotometricInterpretation', '') == 'MONOCHROME1': a = 1 - a
        X.append(a); Y.append(int(mal)); P.append(pid)
    return np.stack(X), np.array(Y), P
Xtr, Ytr, Ptr = load('train'); Xte, Yte, Pte = load('test')
np.savez('/tmp/mhr-probe/data.npz', Xtr=Xtr, Ytr=Ytr, Xte=Xte, Yte=Yte)
print(Xtr.shape, Ytr.mean(), Xte.shape, Yte.mean(), Xtr.mean(), Xtr.std())
