// Label key syntax, as Kubernetes defines it: an optional DNS-subdomain prefix and '/', then a name
// of at most 63 characters that starts and ends with a letter or digit.

export interface KeyProblem {
  /** 0-based offset within the key. */
  readonly offset: number;
  readonly message: string;
}

const NAME_MAX = 63;
const PREFIX_MAX = 253;
const ALNUM = /^[A-Za-z0-9]$/;
const NAME_CHAR = /^[A-Za-z0-9._-]$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Why `key` is not a valid label key, or undefined when it is. */
export function labelKeyProblem(key: string): KeyProblem | undefined {
  const slash = key.indexOf("/");
  if (slash >= 0) {
    const second = key.indexOf("/", slash + 1);
    if (second >= 0) return { offset: second, message: `label key '${key}' has more than one '/'` };
    const prefixProblem = dnsPrefixProblem(key, key.slice(0, slash));
    if (prefixProblem) return prefixProblem;
  }
  const nameStart = slash + 1;
  return nameProblem(key, key.slice(nameStart), nameStart);
}

function nameProblem(key: string, name: string, at: number): KeyProblem | undefined {
  if (name === "") return { offset: at, message: `label key '${key}' has an empty name after '/'` };
  if (name.length > NAME_MAX) {
    return { offset: at, message: `label key '${key}' has a name longer than ${NAME_MAX} characters` };
  }
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (i === 0 && !ALNUM.test(ch)) {
      return { offset: at, message: `label key '${key}' must start with a letter or digit` };
    }
    if (i === name.length - 1 && !ALNUM.test(ch)) {
      return { offset: at + i, message: `label key '${key}' must end with a letter or digit` };
    }
    if (!NAME_CHAR.test(ch)) {
      return {
        offset: at + i,
        message: `label key '${key}' may only contain letters, digits, '-', '_' and '.'`,
      };
    }
  }
  return undefined;
}

function dnsPrefixProblem(key: string, prefix: string): KeyProblem | undefined {
  if (prefix === "") return { offset: 0, message: `label key '${key}' has an empty prefix before '/'` };
  if (prefix.length > PREFIX_MAX) {
    return { offset: 0, message: `label key '${key}' has a prefix longer than ${PREFIX_MAX} characters` };
  }
  let offset = 0;
  for (const label of prefix.split(".")) {
    if (!DNS_LABEL.test(label) || label.length > NAME_MAX) {
      return {
        offset,
        message: `label key '${key}' has an invalid prefix '${prefix}': it must be a lower-case DNS name such as 'egw.dev'`,
      };
    }
    offset += label.length + 1;
  }
  return undefined;
}
