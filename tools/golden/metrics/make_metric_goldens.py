"""Reference values for @scan-repro/metrics, computed with scikit-learn / scipy.

Run once (from the repo root) and commit the JSON it writes:
    .venv-tools/bin/python tools/golden/metrics/make_metric_goldens.py
It writes packages/metrics/test/fixtures/metric-goldens.json.

The Hungarian matching and the Top-5 remap follow the official SCAN code
(utils/evaluate_utils.py: _hungarian_match / hungarian_evaluate): linear_sum_assignment on
(N - counts) with counts[cluster, class]. The weighted kNN follows utils/memory.py
MemoryBank.weighted_knn.
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn import metrics
from sklearn.cluster import KMeans

rng = np.random.default_rng(20200528)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'packages', 'metrics', 'test', 'fixtures',
                   'metric-goldens.json')


def counts_matrix(pred, target, n_clusters, n_classes):
    m = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(m, (pred, target), 1)
    return m


def labeling_case(name, n, n_clusters, n_classes, noise):
    target = rng.integers(0, n_classes, size=n)
    # a cluster id per class (random, and for overclustering several clusters per class), then noise
    cluster_of_class = rng.permutation(n_clusters)[:n_classes] if n_clusters >= n_classes else \
        rng.integers(0, n_clusters, size=n_classes)
    pred = cluster_of_class[target].copy()
    if n_clusters > n_classes:
        # spread each class over a second cluster for half its samples
        spare = rng.permutation(np.setdiff1d(np.arange(n_clusters), cluster_of_class))
        half = rng.random(n) < 0.5
        pred[half] = spare[target[half] % len(spare)]
    flip = rng.random(n) < noise
    pred[flip] = rng.integers(0, n_clusters, size=int(flip.sum()))
    counts = counts_matrix(pred, target, n_clusters, n_classes)
    rows, cols = linear_sum_assignment(n - counts)
    match = [[int(r), int(c)] for r, c in zip(rows, cols)]
    hungarian_acc = float(counts[rows, cols].sum()) / n
    majority = np.argmax(counts, axis=1)  # ties -> lowest class index
    majority_acc = float(np.mean(majority[pred] == target))
    return {
        'name': name, 'numClusters': n_clusters, 'numClasses': n_classes,
        'pred': pred.tolist(), 'target': target.tolist(),
        'nmi': metrics.normalized_mutual_info_score(target, pred),
        'ari': metrics.adjusted_rand_score(target, pred),
        'ami': metrics.adjusted_mutual_info_score(target, pred),
        'hungarianMatch': match, 'hungarianAccuracy': hungarian_acc,
        'majorityMapping': majority.tolist(), 'majorityAccuracy': majority_acc,
    }


def top5_case(n, c):
    target = rng.integers(0, c, size=n)
    logits = rng.normal(size=(n, c)) * 2.0
    logits[np.arange(n), (target * 7 + 3) % c] += 2.5  # correlated with a permutation of the target
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = np.round(probs / probs.sum(1, keepdims=True), 6)
    pred = probs.argmax(1)
    counts = counts_matrix(pred, target, c, c)
    rows, cols = linear_sum_assignment(n - counts)
    # official remap of the 5 highest-probability clusters (ties in probs are vanishingly unlikely)
    top5 = np.argsort(-probs, axis=1, kind='stable')[:, :5]
    remapped = np.zeros_like(top5)
    for r, cc in zip(rows, cols):
        remapped[top5 == r] = cc
    top5_acc = float((remapped == target[:, None]).sum()) / n
    return {'numClusters': c, 'probs': probs.ravel().tolist(), 'target': target.tolist(), 'pred': pred.tolist(),
            'hungarianMatch': [[int(r), int(cc)] for r, cc in zip(rows, cols)],
            'hungarianAccuracy': float(counts[rows, cols].sum()) / n, 'top5Accuracy': top5_acc}


def assignment_case(nr, nc, integer):
    cost = rng.integers(0, 5, size=(nr, nc)).astype(float) if integer else np.round(rng.random((nr, nc)) * 100, 3)
    rows, cols = linear_sum_assignment(cost)
    rows_max, cols_max = linear_sum_assignment(cost, maximize=True)
    return {'rows': nr, 'cols': nc, 'cost': cost.ravel().tolist(), 'minCost': float(cost[rows, cols].sum()),
            'maxCost': float(cost[rows_max, cols_max].sum())}


def kmeans_case():
    k, d, n = 5, 8, 300
    centers = rng.normal(size=(k, d)) * 6.0
    truth = rng.integers(0, k, size=n)
    x = np.round(centers[truth] + rng.normal(size=(n, d)), 4)
    km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)
    return {'n': n, 'd': d, 'k': k, 'features': x.ravel().tolist(), 'truth': truth.tolist(),
            'sklearnInertia': float(km.inertia_)}


def knn_case():
    c, d, n_train, n_test, k, tau = 5, 16, 300, 80, 50, 0.1
    centers = rng.normal(size=(c, d))
    train_y = rng.integers(0, c, size=n_train)
    test_y = rng.integers(0, c, size=n_test)
    train = np.round(centers[train_y] + rng.normal(size=(n_train, d)) * 1.2, 4)
    test = np.round(centers[test_y] + rng.normal(size=(n_test, d)) * 1.2, 4)
    tr = train / np.linalg.norm(train, axis=1, keepdims=True)
    te = test / np.linalg.norm(test, axis=1, keepdims=True)
    sims = te @ tr.T
    order = np.argsort(-sims, axis=1, kind='stable')[:, :k]
    yd = np.take_along_axis(sims, order, axis=1)
    votes = np.zeros((n_test, c))
    for i in range(n_test):
        np.add.at(votes[i], train_y[order[i]], np.exp(yd[i] / tau))
    pred = votes.argmax(1)
    return {'numClasses': c, 'd': d, 'k': k, 'temperature': tau,
            'trainFeatures': train.ravel().tolist(), 'trainLabels': train_y.tolist(),
            'testFeatures': test.ravel().tolist(), 'testLabels': test_y.tolist(),
            'predictions': pred.tolist(), 'accuracy': float(np.mean(pred == test_y))}


goldens = {
    'versions': {'numpy': np.__version__, 'scipy': scipy.__version__, 'sklearn': sklearn.__version__},
    'labelings': [
        labeling_case('equal-10x10-noisy', 300, 10, 10, 0.4),
        labeling_case('overcluster-20x10', 400, 20, 10, 0.3),
        labeling_case('fewer-clusters-6x9', 250, 6, 9, 0.5),
        labeling_case('more-clusters-12x7', 260, 12, 7, 0.35),
        labeling_case('random-10x10', 500, 10, 10, 1.0),
        labeling_case('equal-50x50', 600, 50, 50, 0.25),
    ],
    'top5': top5_case(200, 20),
    'assignments': [assignment_case(5, 5, True), assignment_case(7, 4, True), assignment_case(4, 7, True),
                    assignment_case(30, 30, True), assignment_case(40, 40, False), assignment_case(13, 29, False)],
    'kmeans': kmeans_case(),
    'knn': knn_case(),
}
with open(OUT, 'w') as f:
    json.dump(goldens, f, separators=(',', ':'))
print('wrote', os.path.normpath(OUT), os.path.getsize(OUT), 'bytes')
