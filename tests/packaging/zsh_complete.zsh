# Usage: zsh -f zsh_complete.zsh COMPLETIONS_DIR LINE EXPECTED
# Types LINE and a TAB into an interactive zsh (on a pseudo-terminal, zsh/zpty) that loads _sendcheck from
# COMPLETIONS_DIR, and waits until the screen shows EXPECTED. Run it under a timeout: it waits as long as it takes.
zmodload zsh/zpty || exit 77
local dir=$1 line=$2 expected=$3
zpty completion 'zsh -f -i'
zpty -w completion "PS1='> '; fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D; setopt nobeep"
zpty -w -n completion "$line"$'\t'
local screen
zpty -r -m completion screen "*${expected}*"
zpty -d completion
