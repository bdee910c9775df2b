//! Real data sets compiled into the binary (no download): the UCI optical digits and iris,
//! standardised, with a fixed seeded train/test split.

use rand::seq::SliceRandom;

use crate::choice;
use crate::mc::StreamRng;

choice! {
    /// A data set compiled into the binary, by name (scenario parameters name it).
    pub enum DataName {
        /// UCI optical digits, 1797 × 64, 10 classes.
        Digits = "digits",
        /// Fisher's iris, 150 × 4, 3 classes.
        Iris = "iris",
    }
}

/// A classification data set: features as a column-major `features × examples` matrix (one
/// example per column, contiguous) and class labels `0..classes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Features, column-major, `features × examples`.
    pub inputs: Vec<f64>,
    /// Class of each example.
    pub labels: Vec<usize>,
    /// Features per example.
    pub features: usize,
    /// Number of classes.
    pub classes: usize,
}

/// A train/test pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Training examples.
    pub train: Dataset,
    /// Held-out examples.
    pub test: Dataset,
}

impl Dataset {
    /// The data set called `name`.
    pub fn named(name: DataName) -> Self {
        match name {
            DataName::Digits => Self::digits(),
            DataName::Iris => Self::iris(),
        }
    }

    /// Number of examples.
    pub fn examples(&self) -> usize {
        self.labels.len()
    }

    /// The UCI optical recognition of handwritten digits set: 1797 images of 8×8 pixels
    /// (64 features, grey levels 0–16), 10 classes (E. Alpaydin & C. Kaynak, UCI Machine
    /// Learning Repository, 1998, doi:10.24432/C50P49; CC BY 4.0), as shipped in `smartcore`.
    ///
    /// ```
    /// let digits = stuck::nets::Dataset::digits();
    /// assert_eq!((digits.examples(), digits.features, digits.classes), (1797, 64, 10));
    /// ```
    pub fn digits() -> Self {
        Self::from_smartcore(smartcore::dataset::digits::load_dataset())
    }

    /// Fisher's iris: 150 flowers, 4 features, 3 classes (R. A. Fisher, *Ann. Eugenics* 7,
    /// 179, 1936; UCI, doi:10.24432/C56C76; CC BY 4.0), as shipped in `smartcore`.
    pub fn iris() -> Self {
        let d = smartcore::dataset::iris::load_dataset();
        let labels = d.target.iter().map(|&t| t as usize).collect();
        Self::from_parts(&d.data, labels, d.num_features)
    }

    fn from_smartcore(d: smartcore::dataset::Dataset<f32, f32>) -> Self {
        let labels = d.target.iter().map(|&t| t.round() as usize).collect();
        Self::from_parts(&d.data, labels, d.num_features)
    }

    fn from_parts(data: &[f32], labels: Vec<usize>, features: usize) -> Self {
        let classes = labels.iter().copied().max().map_or(0, |m: usize| m + 1);
        Dataset {
            inputs: data.iter().map(|&x| f64::from(x)).collect(),
            labels,
            features,
            classes,
        }
    }

    /// Shuffles the examples with `rng` and keeps `test_fraction` of them for testing; the
    /// features are then standardised with the training set's mean and standard deviation
    /// (a constant feature, like the digits' always-blank corner pixels, is only centred).
    pub fn split(&self, test_fraction: f64, rng: &mut StreamRng) -> Split {
        let mut order: Vec<usize> = (0..self.examples()).collect();
        order.shuffle(rng);
        let test_count = ((self.examples() as f64) * test_fraction).round() as usize;
        let (test, train) = order.split_at(test_count);
        let mut train = self.select(train);
        let mut test = self.select(test);
        let (mean, scale) = train.moments();
        train.standardise(&mean, &scale);
        test.standardise(&mean, &scale);
        Split { train, test }
    }

    /// The consecutive examples `range`, in order, with the same classes.
    pub fn rows(&self, range: std::ops::Range<usize>) -> Dataset {
        self.select(&range.collect::<Vec<_>>())
    }

    fn select(&self, indices: &[usize]) -> Dataset {
        let f = self.features;
        let mut inputs = Vec::with_capacity(indices.len() * f);
        for &i in indices {
            inputs.extend_from_slice(&self.inputs[i * f..(i + 1) * f]);
        }
        Dataset {
            inputs,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            features: f,
            classes: self.classes,
        }
    }

    /// Per-feature mean and standard deviation (1 where the deviation is 0).
    fn moments(&self) -> (Vec<f64>, Vec<f64>) {
        let (f, n) = (self.features, self.examples() as f64);
        let mut mean = vec![0.0; f];
        for x in self.inputs.chunks(f) {
            mean.iter_mut().zip(x).for_each(|(m, v)| *m += v / n);
        }
        let mut var = vec![0.0; f];
        for x in self.inputs.chunks(f) {
            var.iter_mut()
                .zip(x.iter().zip(&mean))
                .for_each(|(s, (v, m))| *s += (v - m).powi(2) / n);
        }
        let scale = var
            .iter()
            .map(|v| if *v > 0.0 { v.sqrt() } else { 1.0 })
            .collect();
        (mean, scale)
    }

    fn standardise(&mut self, mean: &[f64], scale: &[f64]) {
        let f = self.features;
        for x in self.inputs.chunks_mut(f) {
            for ((v, m), s) in x.iter_mut().zip(mean).zip(scale) {
                *v = (*v - m) / s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mc::chunk_stream;

    #[test]
    fn digits_and_iris_load_with_their_published_shapes() {
        let digits = Dataset::digits();
        assert_eq!(digits.inputs.len(), 1797 * 64);
        let counts = (0..10)
            .map(|c| digits.labels.iter().filter(|&&l| l == c).count())
            .collect::<Vec<_>>();
        // Class sizes of the UCI set as shipped by scikit-learn (178, 182, 177, 183, 181,
        // 182, 181, 179, 174, 180).
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        let iris = Dataset::iris();
        assert_eq!((iris.examples(), iris.features, iris.classes), (150, 4, 3));
    }

    #[test]
    fn split_is_seeded_disjoint_and_standardised() {
        let digits = Dataset::digits();
        let a = digits.split(0.25, &mut chunk_stream(1, "split", 0, 0));
        let b = digits.split(0.25, &mut chunk_stream(1, "split", 0, 0));
        assert_eq!(a, b);
        assert_eq!(a.train.examples() + a.test.examples(), 1797);
        assert_eq!(a.test.examples(), 449);
        let (mean, scale) = a.train.moments();
        assert!(mean.iter().all(|m| m.abs() < 1e-12));
        assert!(scale.iter().all(|s| (s - 1.0).abs() < 1e-12));
    }
}
