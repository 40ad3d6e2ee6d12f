import express, { type Router } from "express";
import { stat } from "node:fs/promises";
import path from "node:path";

/**
 * GET /api/v1/datasets/fashion-mnist/{t10k-images,t10k-labels}: the Fashion-MNIST test set as Debian's
 * `dataset-fashion-mnist` package installs it (gzip-compressed IDX files), so the dashboard can classify
 * real test images without the repository carrying a copy of the data set. The bytes are served as they
 * are on disk (application/gzip, no Content-Encoding): the browser inflates them with DecompressionStream.
 *
 * Only a fixed table of files is served (no path from the URL ever reaches the file system), from
 * `$OPEN_SWARM_DATASETS_DIR/fashion-mnist/` (default /usr/share/datasets/fashion-mnist/).
 */
export const DATASETS_DIR_ENV = "OPEN_SWARM_DATASETS_DIR";
export const DEFAULT_DATASETS_DIR = "/usr/share/datasets";
export const DATASET_INSTALL_HINT = "apt-get install dataset-fashion-mnist";

/** URL name → file name inside the data set's folder. */
export const FASHION_MNIST_FILES: Readonly<Record<string, string>> = {
  "t10k-images": "t10k-images-idx3-ubyte.gz",
  "t10k-labels": "t10k-labels-idx1-ubyte.gz",
};

export interface DatasetsOptions {
  /** The folder holding `fashion-mnist/`; default $OPEN_SWARM_DATASETS_DIR, else /usr/share/datasets. */
  readonly dir?: string | undefined;
}

/** The datasets folder the environment names (an empty variable means the default). */
export function datasetsDirFromEnv(env: Record<string, string | undefined>): string {
  const value = env[DATASETS_DIR_ENV];
  return value === undefined || value.trim() === "" ? DEFAULT_DATASETS_DIR : value;
}

/** Mount under /api/v1/datasets. */
export function datasetsRouter(options: DatasetsOptions = {}): Router {
  const root = path.resolve(options.dir ?? datasetsDirFromEnv(process.env));
  const folder = path.join(root, "fashion-mnist");
  const router = express.Router();

  // What is here, so a client can tell "not installed" from "not reachable" before downloading 4 MB.
  router.get("/fashion-mnist", async (_req, res) => {
    const files = await Promise.all(
      Object.entries(FASHION_MNIST_FILES).map(async ([name, file]) => {
        const bytes = await fileSize(path.join(folder, file));
        return {
          name,
          file,
          available: bytes !== null,
          bytes,
          url: `/api/v1/datasets/fashion-mnist/${name}`,
        };
      }),
    );
    const available = files.every((f) => f.available);
    res.setHeader("Cache-Control", "no-cache");
    res.json({
      dataset: "fashion-mnist",
      available,
      files,
      ...(available ? {} : { install: DATASET_INSTALL_HINT }),
    });
  });

  router.get("/fashion-mnist/:name", async (req, res, next) => {
    const file = Object.hasOwn(FASHION_MNIST_FILES, req.params.name)
      ? FASHION_MNIST_FILES[req.params.name]
      : undefined;
    if (file === undefined) {
      res.status(404).json({
        error: "unknown_dataset_file",
        message: `fashion-mnist has no file "${req.params.name.slice(0, 64)}"; known: ${Object.keys(FASHION_MNIST_FILES).join(", ")}`,
      });
      return;
    }
    const filePath = path.join(folder, file);
    if ((await fileSize(filePath)) === null) {
      res.status(404).json({
        error: "dataset_not_installed",
        message: `${filePath} is missing on the server: ${DATASET_INSTALL_HINT} (or set ${DATASETS_DIR_ENV} to the folder holding fashion-mnist/)`,
        install: DATASET_INSTALL_HINT,
      });
      return;
    }
    res.sendFile(
      filePath,
      // "allow": the folder is the operator's choice and may sit under a dot folder; the file is from the table.
      {
        headers: { "Content-Type": "application/gzip", "Cache-Control": "public, max-age=86400" },
        dotfiles: "allow",
      },
      (error) => {
        if (error && !res.headersSent) next(error);
      },
    );
  });

  router.use((req, res) => {
    res.status(404).json({
      error: "unknown_dataset",
      message: `no dataset at ${req.path.slice(0, 64)}; known: fashion-mnist`,
    });
  });
  return router;
}

/** Size in bytes of a regular file, or null when it is absent (or not a file). */
async function fileSize(filePath: string): Promise<number | null> {
  try {
    const info = await stat(filePath);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}
