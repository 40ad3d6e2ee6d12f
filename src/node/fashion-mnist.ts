/**
 * Where the Fashion-MNIST IDX files are: Debian's dataset-fashion-mnist package puts them in
 * /usr/share/datasets/fashion-mnist; OPEN_SWARM_DATASETS_DIR names another parent folder (the server reads
 * the same variable). Tests, benchmarks and `models:build` all ask here.
 */
export const FASHION_MNIST_DIR = `${process.env["OPEN_SWARM_DATASETS_DIR"] || "/usr/share/datasets"}/fashion-mnist`;
export const FASHION_TEST_IMAGES = `${FASHION_MNIST_DIR}/t10k-images-idx3-ubyte.gz`;
