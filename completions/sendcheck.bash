# bash completion for sendcheck(1)                                       -*- shell-script -*-
# Installed as share/bash-completion/completions/sendcheck; works with or without the bash-completion package.

_sendcheck()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local opt="" prefix=""

    # "--opt=value": bash splits the word at '=' (COMP_WORDBREAKS) into "--opt" "=" "value"; when '=' is not a
    # word break, the value comes in the same word and the replies must keep the "--opt=" prefix.
    if [[ $cur == "=" && $prev == --* ]]; then
        opt=$prev
        cur=""
    elif [[ $prev == "=" ]] && ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[COMP_CWORD - 2]} == --* ]]; then
        opt=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        opt=${cur%%=*}
        prefix="$opt="
        cur=${cur#*=}
    elif [[ $prev == -* ]]; then
        opt=$prev
        [[ $opt == --suggest || $opt == --json ]] && opt="" # their values come only after '='
    fi

    local values=""
    case $opt in
        --suggest) values="record zone" ;;
        --json) values="indented lines" ;;
        --color) values="auto always never" ;;
        --ip-style) values="auto a ip4" ;;
        --only) values="spf spf,dkim spf,dmarc spf,dkim,dmarc" ;;
        --format) values="plain cidr postfix nftables json" ;;
        -f | --file | --zone | --profile)
            if [[ -z $prefix ]] && declare -F _filedir >/dev/null; then
                _filedir
            else
                compopt -o filenames 2>/dev/null
                local IFS=$'\n'
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            if [[ $opt == -f || $opt == --file ]] && [[ -z $cur ]]; then
                COMPREPLY+=("-")
            fi
            [[ -n $prefix ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
            return 0
            ;;
        --server | --selector | --dkim-reference | --record | --timeout | --tries | --concurrency | -j | --jobs)
            # A value is required but there is nothing sensible to offer.
            COMPREPLY=()
            return 0
            ;;
    esac
    if [[ -n $values ]]; then
        COMPREPLY=($(compgen -W "$values" -- "$cur"))
        [[ -n $prefix ]] && COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
        return 0
    fi

    if [[ $cur == -* ]]; then
        local options="--help --version --file --suggest --suggest= --json --json= --color --quiet --verbose --ip-style
            --selector --dkim-reference --no-bulk --only --record --server --zone --offline --timeout --tries --concurrency --jobs
            --profile --show-profile --allowlist --format --check -h -f -j -q -v"
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        # "--suggest=" and "--json=" are offered so that the value can be completed next; no space after them.
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return 0
    fi
    # Domains: nothing to offer.
    COMPREPLY=()
    return 0
}
complete -F _sendcheck sendcheck
