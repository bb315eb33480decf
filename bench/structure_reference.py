"""librosa's Laplacian segmentation (McFee and Ellis, "Analyzing song structure with spectral
clustering", ISMIR 2014), as librosa's documented example does it, for the structure bench.

Beat-synchronous constant-Q features give a recurrence affinity (mutual nearest neighbours,
median-filtered along the diagonal); beat-to-beat MFCC distances give the path affinity; the two
are balanced by their degrees. The first eigenvectors of the normalised Laplacian, median-filtered
over time and normalised, are clustered with k-means, and a boundary is where the cluster changes.
The example takes k = 5 from the reader; here k is the eigengap of the Laplacian's smallest
eigenvalues (2..MAX_CLUSTERS), never the ground truth. The bench extra only; the mock never
imports it.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from mock_server.audio.types import Audio

RATE = 22050
BINS_PER_OCTAVE = 36
OCTAVES = 7
MAX_CLUSTERS = 10


def laplacian_segments(audio: Audio) -> tuple[NDArray[np.float64], list[int]]:
    """(intervals in seconds, one label per interval) for `audio`, from 0 to its end."""
    import librosa  # the bench extra
    import scipy  # librosa's own dependencies, without stubs
    import sklearn.cluster

    signal = librosa.resample(audio.mono(), orig_sr=audio.sample_rate, target_sr=RATE)
    cqt = librosa.amplitude_to_db(
        np.abs(
            librosa.cqt(
                y=signal, sr=RATE, bins_per_octave=BINS_PER_OCTAVE, n_bins=OCTAVES * BINS_PER_OCTAVE
            )
        ),
        ref=np.max,
    )
    _, beats = librosa.beat.beat_track(y=signal, sr=RATE, trim=False)
    cqt_sync = librosa.util.sync(cqt, beats.tolist(), aggregate=np.median)
    beat_times = librosa.frames_to_time(
        librosa.util.fix_frames(beats, x_min=0, x_max=cqt.shape[1]), sr=RATE
    )
    recurrence = librosa.segment.recurrence_matrix(cqt_sync, width=3, mode="affinity", sym=True)
    filtered = librosa.segment.timelag_filter(scipy.ndimage.median_filter)(recurrence, size=(1, 7))
    mfcc_sync = librosa.util.sync(librosa.feature.mfcc(y=signal, sr=RATE), beats.tolist())
    path_distance = np.sum(np.diff(mfcc_sync, axis=1) ** 2, axis=0)
    path_similarity = np.exp(-path_distance / np.median(path_distance))
    path = np.diag(path_similarity, k=1) + np.diag(path_similarity, k=-1)
    degree_path, degree_recurrence = path.sum(axis=1), filtered.sum(axis=1)
    mu = degree_path.dot(degree_path + degree_recurrence) / np.sum(
        (degree_path + degree_recurrence) ** 2
    )
    affinity = mu * filtered + (1 - mu) * path
    laplacian = scipy.sparse.csgraph.laplacian(affinity, normed=True)
    values, vectors = scipy.linalg.eigh(laplacian)
    vectors = scipy.ndimage.median_filter(vectors, size=(9, 1))
    count = _eigengap(values)
    cumulative = np.cumsum(vectors**2, axis=1) ** 0.5
    points = vectors[:, :count] / cumulative[:, count - 1 : count]
    ids = sklearn.cluster.KMeans(n_clusters=count, n_init=10, random_state=0).fit_predict(points)
    starts = [0, *(1 + np.flatnonzero(ids[:-1] != ids[1:])).tolist()]
    labels = [int(ids[i]) for i in starts]
    times = [float(beat_times[i]) for i in starts] + [audio.duration]
    times[0] = 0.0
    return np.array(list(itertools.pairwise(times))), labels


def _eigengap(values: NDArray[np.float64]) -> int:
    """The k in 2..MAX_CLUSTERS after which the Laplacian's ascending eigenvalues jump most."""
    limit = min(MAX_CLUSTERS, values.size - 1)
    if limit < 2:
        return 1
    gaps = np.diff(values[: limit + 1])  # gaps[k - 1] = values[k] - values[k - 1]
    return int(np.argmax(gaps[1:limit]) + 2)
