// `egw crds`: the CustomResourceDefinitions generated from the schemas, as multi-document YAML.
import type { Command } from "commander";
import { allCrds } from "../../api/crd.js";
import type { CliContext } from "../context.js";
import { renderYaml } from "../output.js";

export const register = (program: Command, ctx: CliContext): void => {
  program
    .command("crds")
    .description("print the CustomResourceDefinitions (kubectl apply -f - can read them)")
    .action(() => {
      ctx.io.stdout(
        allCrds()
          .map((crd) => renderYaml(crd))
          .join("---\n"),
      );
    });
};
