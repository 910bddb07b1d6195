# Sourced by scripts that build native code or install a Node-24 tool, so they behave the same
# under npm (`npm test`, `npm run sandbox`) as from a plain shell. npm exports its whole config
# as npm_config_* (e.g. nodedir=/usr from a global or user npmrc, which node-gyp then takes over
# --nodedir and builds against Node 20's headers), plus npm_node_execpath / NODE (the Node that
# runs npm) and node_modules/.bin and node-gyp-bin dirs on PATH. All of that is dropped here;
# each step then names its Node and its options itself.
clean_npm_env() {
  local v
  while IFS= read -r v; do
    unset "$v"
  done < <(compgen -e | grep -iE '^(npm_|NODE$|INIT_CWD$|NODE_GYP_)' || true)
  local keep="" d
  local IFS=:
  for d in $PATH; do
    case "$d" in
      */node_modules/.bin | */node-gyp-bin | "") ;;
      *) keep="${keep:+$keep:}$d" ;;
    esac
  done
  PATH="$keep"
  export PATH
}
