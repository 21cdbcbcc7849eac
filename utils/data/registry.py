"""The course's datasets: where each comes from, what it yields, and its checksums.

Every dataset lists the files it yields with their SHA-256 in
``utils/data/checksums/<name>.sha256`` (``sha256sum`` format). The hashes are of the
files *as used*, after extraction or decompression, so a download, a hand-placed
file and a mirror copy are all verified the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

CHECKSUM_DIR = Path(__file__).resolve().parent / "checksums"


@dataclass(frozen=True)
class Source:
    """One downloadable artifact.

    ``kind`` is ``file`` (saved as ``target``), ``gz`` (decompressed to ``target``),
    ``zip`` or ``tar.gz`` (members under ``root`` extracted, ``root`` stripped).
    ``sha256`` is the artifact's own published digest, where the dataset needs it
    to trust files its manifest does not list (see ``Dataset.allow_extra``).
    """

    url: str
    kind: str = "file"
    target: str | None = None
    root: str = ""
    sha256: str = ""

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Dataset:
    """A course dataset: provenance, licence and the files it must yield."""

    name: str
    title: str
    sources: tuple[Source, ...]
    mirror_dir: str
    homepage: str
    licence: str
    citation: str = ""
    # Only archive members whose relative path starts with one of these are kept.
    keep_prefixes: tuple[str, ...] = ()
    # True where the canonical archive holds more files than the manifest lists
    # (IMDB: the manifest is the mirrored subset). Unlisted files are installed
    # only from an artifact whose own SHA-256 equals its Source.sha256; from any
    # other copy they are dropped, so no unverified file reaches the cache.
    allow_extra: bool = False
    notes: str = ""

    @property
    def files(self) -> dict[str, str]:
        """Relative path -> expected SHA-256, from the checksum manifest."""
        return _read_manifest(self.name)

    def keep(self, rel: str) -> bool:
        return not self.keep_prefixes or rel.startswith(self.keep_prefixes)


@cache
def _read_manifest(name: str) -> dict[str, str]:
    path = CHECKSUM_DIR / f"{name}.sha256"
    files: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, rel = line.split("  ", 1)
            files[rel] = digest
    return files


_GH_SDS = "https://raw.githubusercontent.com/sudislife/DatasetsForColab/450e1d4"
_GH_STOCK = "https://raw.githubusercontent.com/akrai37/Deep_Learning-RNN/77e4f4c"
_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets"

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="churn",
            title="Bank customer churn (10,000 customers)",
            sources=(Source(f"{_GH_SDS}/Churn_Modelling.csv", target="Churn_Modelling.csv"),),
            mirror_dir="churn",
            homepage="https://www.kaggle.com/datasets/shrutimechlearn/churn-modelling",
            licence="Teaching dataset of a fictional bank (SuperDataScience); no explicit licence.",
        ),
        Dataset(
            name="credit_card_applications",
            title="Credit card applications (UCI Statlog Australian credit, with CustomerID)",
            sources=(
                Source(f"{_GH_SDS}/Credit_Card_Applications.csv", target="Credit_Card_Applications.csv"),
                Source("https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/australian/australian.dat",
                       target="australian.dat"),
            ),
            mirror_dir="credit_card_applications",
            homepage="https://archive.ics.uci.edu/dataset/143/statlog+australian+credit+approval",
            licence="CC BY 4.0 (UCI); the CSV wrapper has no explicit licence.",
            citation="Quinlan, R. Statlog (Australian Credit Approval). UCI Machine Learning Repository.",
        ),
        Dataset(
            name="google_stock",
            title="Google (GOOG) daily prices, 2012-2016 train and January 2017 test",
            sources=(
                Source(f"{_GH_STOCK}/Google_Stock_Price_Train.csv", target="Google_Stock_Price_Train.csv"),
                Source(f"{_GH_STOCK}/Google_Stock_Price_Test.csv", target="Google_Stock_Price_Test.csv"),
            ),
            mirror_dir="google_stock",
            homepage="https://www.superdatascience.com/pages/deep-learning",
            licence="Market data as shipped with the SuperDataScience course; no explicit licence.",
            notes="The last header is ' Volume' (leading space) and volumes are quoted strings.",
        ),
        Dataset(
            name="movielens_100k",
            title="MovieLens 100K (100,000 ratings, 943 users, 1,682 movies)",
            sources=(Source("https://files.grouplens.org/datasets/movielens/ml-100k.zip", kind="zip", root="ml-100k"),),
            mirror_dir="movielens/ml-100k",
            homepage="https://grouplens.org/datasets/movielens/100k/",
            licence="GroupLens research licence: no redistribution, no commercial use. Never commit these files.",
            citation="Harper, F. M. & Konstan, J. A. (2015). The MovieLens Datasets: History and Context. ACM TiiS 5(4).",
        ),
        Dataset(
            name="airline_passengers",
            title="International airline passengers, monthly 1949-1960 (Box & Jenkins series G)",
            sources=(
                Source("https://raw.githubusercontent.com/jbrownlee/Datasets/master/airline-passengers.csv",
                       target="airline-passengers.csv"),
                Source("https://raw.githubusercontent.com/jbrownlee/Datasets/master/airline-passengers.names",
                       target="airline-passengers.names"),
            ),
            mirror_dir="airline_passengers",
            homepage="https://github.com/jbrownlee/Datasets",
            licence="Classic published series (Box, Jenkins & Reinsel, Time Series Analysis).",
            citation="Box, G. E. P., Jenkins, G. M. & Reinsel, G. C. (1976). Time Series Analysis: Forecasting and Control.",
        ),
        Dataset(
            name="sms_spam",
            title="SMS Spam Collection v.1 (5,574 messages)",
            sources=(Source("https://archive.ics.uci.edu/static/public/228/sms+spam+collection.zip", kind="zip"),),
            mirror_dir="sms_spam",
            homepage="https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
            licence="CC BY 4.0 (UCI).",
            citation="Almeida, T. A., Gomez Hidalgo, J. M. & Yamakami, A. (2011). Contributions to the Study of SMS Spam Filtering. DocEng.",
            keep_prefixes=("SMSSpamCollection", "readme"),
        ),
        Dataset(
            name="cats_and_dogs",
            title="Cats vs dogs, filtered (2,000 training and 1,000 validation JPEGs)",
            sources=(Source("https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
                            kind="zip", root="cats_and_dogs_filtered"),),
            mirror_dir="cats_and_dogs/cats_and_dogs_filtered",
            homepage="https://www.kaggle.com/c/dogs-vs-cats",
            licence="Asirra images (Microsoft Research) via Kaggle Dogs vs. Cats; research and education use.",
            citation="Elson, J., Douceur, J., Howell, J. & Saul, J. (2007). Asirra: a CAPTCHA that exploits interest-aligned manual image categorization. CCS.",
            keep_prefixes=("train/", "validation/"),
        ),
        Dataset(
            name="fashion_mnist",
            title="Fashion-MNIST (60,000 training and 10,000 test images, 28x28)",
            sources=tuple(
                Source(f"{_KERAS}/fashion-mnist/{stem}.gz", kind="gz", target=stem)
                for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
            ),
            mirror_dir="fashion_mnist",
            homepage="https://github.com/zalandoresearch/fashion-mnist",
            licence="MIT (Zalando SE).",
            citation="Xiao, H., Rasul, K. & Vollgraf, R. (2017). Fashion-MNIST. arXiv:1708.07747.",
        ),
        Dataset(
            name="imdb",
            title="IMDB Large Movie Review Dataset (full 25k/25k, or the mirrored 2k/2k subset)",
            sources=(Source("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                            kind="tar.gz", root="aclImdb",
                            sha256="c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"),),
            mirror_dir="imdb/aclImdb_subset",
            homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
            licence="No formal licence; cite the paper below.",
            citation="Maas, A. L. et al. (2011). Learning Word Vectors for Sentiment Analysis. ACL.",
            keep_prefixes=("train/pos/", "train/neg/", "test/pos/", "test/neg/"),
            allow_extra=True,
            notes=("The manifest lists the 4,000 reviews of the balanced subset; the full archive contains "
                   "them too. The other 46,000 labelled reviews are installed only from the archive whose "
                   "SHA-256 is recorded above (84,125,825 bytes), so they are trusted because the archive "
                   "was verified. From any other copy (a mirror, a repacked archive) only the manifest's "
                   "files are kept, with a warning."),
        ),
        Dataset(
            # Pretrained weights are fetched and verified like a dataset. The SHA-256 is the one Keras itself
            # pins for this file (keras/src/applications/convnext.py, WEIGHTS_HASHES["convnext_tiny"][1],
            # checked by keras.utils.get_file whenever ConvNeXtTiny(weights="imagenet") downloads it).
            name="convnext_tiny_imagenet",
            title="ConvNeXt-Tiny ImageNet-1k weights without the classification head (Keras applications)",
            sources=(Source("https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
                            "convnext_tiny_notop.h5", target="convnext_tiny_notop.h5"),),
            mirror_dir="pretrained/convnext_tiny",
            homepage="https://keras.io/api/applications/convnext/",
            licence="MIT (the original ConvNeXt weights, facebookresearch/ConvNeXt), converted by the Keras team.",
            citation="Liu, Z. et al. (2022). A ConvNet for the 2020s. CVPR.",
            notes="Load with keras.applications.ConvNeXtTiny(include_top=False, weights=<path of the file>).",
        ),
    ]
}


def get(name: str) -> Dataset:
    """Return the registry entry for ``name`` or raise a helpful ``KeyError``."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"Unknown dataset {name!r}. Known datasets: {', '.join(sorted(DATASETS))}.") from None
