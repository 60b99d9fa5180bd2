/** Texts every surface shows the same way. */
export const HELP_TEXT = `I run Python for this thread in a sandbox with no internet. Ask in words, attach files (they land in /mnt/data), and I write and run the code; plots and files come back here. Variables and files persist through the thread; variables are saved in a checkpoint while the thread is idle, so a restarted kernel gets them back.

Commands:
- \`run <code>\`, or a message that is only a \`\`\`python block: run code directly, no model
- \`files\`: list the thread's files; \`files NAME\` sends one back
- \`export\`: the thread's cells and outputs as a Jupyter notebook
- \`status\`: the kernel, its memory, and what has run
- \`install NAME…\`: install Python packages from this bot's package index (when it has one); \`packages\`: what this thread installed
- \`reset\`: a fresh kernel and an empty /mnt/data
- \`forget\`: delete the thread's saved checkpoint (the kernel keeps its variables while it runs)
- \`stop\`: interrupt the running cell and end the turn
- \`help\`: this message`;

export const RUN_USAGE_TEXT =
  'Give me code to run: `run print(1)`, or send just a ```python block.';

export const NO_MODEL_TEXT = `No language model is configured, so I can only run code directly: send a \`\`\`python block or \`run <code>\`.
To chat, whoever runs me sets OPENAI_API_KEY (and OPENAI_MODEL), or OPENAI_BASE_URL for a compatible server such as Ollama, and restarts me.`;
