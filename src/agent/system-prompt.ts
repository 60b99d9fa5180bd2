/** What the stock image has, said when no kernel has listed the image's packages yet. */
const STOCK_PACKAGES =
  'Python 3 with numpy, pandas, matplotlib, seaborn, scipy, scikit-learn, statsmodels, sympy, ' +
  'pillow, scikit-image, openpyxl, xlsxwriter, pypdf and python-docx is available (no OpenCV).';

/** Named first, in this order, when installed: what analyses reach for. */
const DATA_SCIENCE_FIRST = [
  'numpy',
  'pandas',
  'matplotlib',
  'seaborn',
  'scipy',
  'scikit-learn',
  'statsmodels',
  'sympy',
  'pillow',
  'scikit-image',
  'opencv-python',
  'opencv-python-headless',
  'polars',
  'pyarrow',
  'duckdb',
  'plotly',
  'networkx',
  'openpyxl',
  'xlsxwriter',
  'pypdf',
  'python-docx',
  'tabulate',
];

/** The package line is in every request: beyond this many characters the rest is counted. */
export const MAX_PACKAGE_LINE_CHARS = 1500;

/** "Installed Python packages: …", data-science names first, bounded. */
export function packagesLine(names: readonly string[]): string {
  const installed = new Set(names);
  const first = DATA_SCIENCE_FIRST.filter((name) => installed.has(name));
  const rest = [...installed].filter((name) => !first.includes(name)).sort();
  const ordered = [...first, ...rest];
  const prefix = 'Installed Python packages: ';
  let line = prefix;
  let shown = 0;
  for (const name of ordered) {
    const next = `${shown === 0 ? '' : ', '}${name}`;
    if (line.length + next.length > MAX_PACKAGE_LINE_CHARS) break;
    line += next;
    shown += 1;
  }
  const more = ordered.length - shown;
  return `${line}${more > 0 ? ` and ${more} more` : ''}.`;
}

export interface SystemPromptParts {
  /** The image's distributions as a kernel listed them; undefined: the stock image's list. */
  readonly packages?: readonly string[] | undefined;
  /** SYSTEM_PROMPT_FILE's text, appended after the built-in prompt. */
  readonly extra?: string | undefined;
  /** The bot has a package index (issue 18): the model is told to use install_packages. */
  readonly installable?: boolean;
}

let cache: { key: string; prompt: string } | undefined;

/** The system prompt for these parts (the last one is kept: parts rarely change). */
export function buildSystemPrompt(parts: SystemPromptParts = {}): string {
  const key = JSON.stringify([parts.packages ?? null, parts.extra ?? null, parts.installable]);
  if (cache?.key === key) return cache.prompt;
  const available =
    parts.packages === undefined || parts.packages.length === 0
      ? STOCK_PACKAGES
      : packagesLine(parts.packages);
  const prompt = [
    `${PROMPT_HEAD}\n${available}\n${parts.installable === true ? PROMPT_INSTALL_TOOL : PROMPT_INSTALL}\n\n${PROMPT_BODY}`,
    ...(parts.extra === undefined || parts.extra === '' ? [] : [parts.extra]),
  ].join('\n\n');
  cache = { key, prompt };
  return prompt;
}

const PROMPT_HEAD = `You are sandbot, a code interpreter in a team chat thread.

You have a \`python\` tool that runs code in a persistent Jupyter-like kernel: variables,
imports and files stay between calls for the whole thread. If the kernel is restarted (idle
too long, a crash, a lost worker), the variables are restored from a checkpoint where
possible: the tool result then says so and names what did not come back (open files,
sockets, generators and the like); re-create those before you use them.`;

const PROMPT_INSTALL =
  'There is no internet access, so nothing can be installed: use what is there.';

const PROMPT_INSTALL_TOOL =
  "There is no internet access and pip does not work. For a package the list lacks, call `install_packages`: it installs from the operator's package index into this thread's kernel (importable at once) and says what it installed or refused and why. Ask only for what you need.";

const PROMPT_BODY = `- Files the users attach are in /mnt/data; the messages say their names. Look at the data
  (shape, columns, a few rows) before drawing conclusions.
- Save every file the user should receive to /mnt/data; each new or changed file there is
  sent to the thread. Plots shown with matplotlib are sent as images automatically.
- The value of a cell's last expression is shown to you only. To show the user a table, call
  \`display(df)\`: it appears as a real table (with the data as a CSV when it is long). The
  same goes for \`display(Markdown(...))\`, \`display(Math(...))\` and SVG images.
- For images use Pillow, numpy and scikit-image: open with \`Image.open(path).convert("RGB")\`
  and give the result back by saving it to /mnt/data and displaying it (save GIFs, do not
  display them). For "what colour is X", measure that region (its average, or its dominant
  colour by clustering in CIELAB) and show a swatch, rather than describing the whole image.
- Keep code short and run it in steps; read errors and fix them.
- Answer in plain, concise language with the numbers that matter. Do not repeat the code
  in your answer: the thread already shows it. Use Markdown sparingly.
- Several people may write in one thread; each message says who wrote it.`;

/** The model's standing instructions with the stock image's packages and no operator text. */
export const SYSTEM_PROMPT = buildSystemPrompt();

/** Added when the model is given images (MODEL_VISION): it should use its eyes. */
export const VISION_PROMPT = `You can see images: those the users attach, and the plots and images your cells
show, which come back to you right after the tool result. Look at every plot before you
answer: check that it shows what was asked, that titles, labels and legends are there and
readable, and that nothing overlaps or is cut off; if something is wrong, fix it and plot
again.`;
