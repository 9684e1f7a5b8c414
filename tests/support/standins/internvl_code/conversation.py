# Stand-in for InternVL's conversation.py, written from what a caller can observe: the templates
# the seed checkpoints name in config.json's `template` (InternVL2-1B/40B/76B: Hermes-2;
# InternVL2-2B/8B/26B: internlm2-chat; InternVL2-4B: phi3-chat; InternVL2.5 and InternVideo2.5:
# internvl2_5), each rendered as the real module's SeparatorStyle.MPT does: the system turn and
# every message followed by `sep`, the open assistant turn last.
import dataclasses

INTERNVL2_SYSTEM = "你是由上海人工智能实验室联合商汤科技开发的书生多模态大模型，英文名叫InternVL, 是一个有用无害的人工智能助手。"
INTERNVL2_5_SYSTEM = "你是书生·万象，英文名是InternVL，是由上海人工智能实验室、清华大学及多家合作单位联合开发的多模态大语言模型。"


@dataclasses.dataclass
class Conversation:
    name: str
    system_template: str
    system_message: str
    roles: tuple
    sep: str
    messages: list = dataclasses.field(default_factory=list)

    def append_message(self, role, message):
        self.messages.append([role, message])

    def get_prompt(self):
        prompt = self.system_template.format(system_message=self.system_message) + self.sep
        for role, message in self.messages:
            prompt += role + message + self.sep if message else role
        return prompt

    def copy(self):
        return dataclasses.replace(self, messages=[list(message) for message in self.messages])


conv_templates = {}


def register_conv_template(template):
    conv_templates[template.name] = template


def get_conv_template(name):
    return conv_templates[name].copy()


CHATML_ROLES = ("<|im_start|>user\n", "<|im_start|>assistant\n")
register_conv_template(Conversation("Hermes-2", "<|im_start|>system\n{system_message}", INTERNVL2_SYSTEM, CHATML_ROLES, "<|im_end|>"))
register_conv_template(Conversation("internlm2-chat", "<|im_start|>system\n{system_message}", INTERNVL2_SYSTEM, CHATML_ROLES, "<|im_end|>"))
register_conv_template(Conversation("phi3-chat", "<|system|>\n{system_message}", INTERNVL2_SYSTEM, ("<|user|>\n", "<|assistant|>\n"), "<|end|>"))
register_conv_template(Conversation("internvl2_5", "<|im_start|>system\n{system_message}", INTERNVL2_5_SYSTEM, CHATML_ROLES, "<|im_end|>\n"))
